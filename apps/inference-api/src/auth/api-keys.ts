import { AppConfig } from '@app/config';
import { Injectable } from '@nestjs/common';
import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** What the headers of a request say about its key. */
export type KeyCheck = 'not-required' | 'valid' | 'missing' | 'invalid';

function digest(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

/**
 * The configured API keys, kept only as SHA-256 digests computed once at boot. A presented key is hashed and
 * compared with timingSafeEqual against every digest (equal lengths, constant time, and no early exit, so timing
 * does not tell which key matched). Used by the guard and by the fast lane: one definition of who may call.
 */
@Injectable()
export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(config: AppConfig) {
    this.digests = config.apiKeys.map(digest);
  }

  get required(): boolean {
    return this.digests.length > 0;
  }

  check(headers: IncomingHttpHeaders): KeyCheck {
    if (!this.required) return 'not-required';
    const presented = presentedKey(headers);
    if (presented === undefined) return 'missing';
    const candidate = digest(presented);
    let matches = false;
    for (const key of this.digests) matches = timingSafeEqual(key, candidate) || matches;
    return matches ? 'valid' : 'invalid';
  }
}

function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  const authorization = headers.authorization;
  const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  return match ? match[1] : undefined;
}
