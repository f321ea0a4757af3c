import { AppConfig } from '@app/config';
import { Injectable } from '@nestjs/common';
import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** What the headers of a request say about its key. */
export type KeyCheck = 'not-required' | 'valid' | 'missing' | 'invalid';

/**
 * What the headers of a request to the repository API say about its key: an admin key, a prediction key (which
 * may not change what is served), no key, a key of neither kind, or no admin keys configured (the API is off).
 */
export type AdminKeyCheck = 'valid' | 'prediction-key' | 'missing' | 'invalid' | 'disabled';

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
  /** ADMIN_API_KEYS: they unlock the repository API and nothing else. AUTH_DISABLED does not open that API. */
  private readonly adminDigests: Buffer[];

  constructor(config: AppConfig) {
    this.digests = config.apiKeys.map(digest);
    this.adminDigests = config.get('ADMIN_API_KEYS').map(digest);
  }

  get required(): boolean {
    return this.digests.length > 0;
  }

  check(headers: IncomingHttpHeaders): KeyCheck {
    if (!this.required) return 'not-required';
    const presented = presentedKey(headers);
    if (presented === undefined) return 'missing';
    return matchesAny(this.digests, digest(presented)) ? 'valid' : 'invalid';
  }

  /** The repository API's check: only an admin key passes; a prediction key is told apart, to be refused (403). */
  checkAdmin(headers: IncomingHttpHeaders): AdminKeyCheck {
    if (this.adminDigests.length === 0) return 'disabled';
    const presented = presentedKey(headers);
    if (presented === undefined) return 'missing';
    const candidate = digest(presented);
    if (matchesAny(this.adminDigests, candidate)) return 'valid';
    return matchesAny(this.digests, candidate) ? 'prediction-key' : 'invalid';
  }
}

/** Compared with every digest, in constant time and with no early exit, so timing does not tell which matched. */
function matchesAny(digests: readonly Buffer[], candidate: Buffer): boolean {
  let matches = false;
  for (const key of digests) matches = timingSafeEqual(key, candidate) || matches;
  return matches;
}

function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  const authorization = headers.authorization;
  const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  return match ? match[1] : undefined;
}
