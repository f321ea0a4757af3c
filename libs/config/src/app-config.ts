import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Environment } from './environment';

/**
 * The typed view of the validated environment that the rest of the code injects.
 * Its values come from `Environment`, so there is no second, hand-written copy of the types.
 */
@Injectable()
export class AppConfig {
  constructor(private readonly config: ConfigService<Environment, true>) {}

  get<K extends keyof Environment>(key: K): Environment[K] {
    return this.config.get(key, { infer: true });
  }

  get isProduction(): boolean {
    return this.get('NODE_ENV') === 'production';
  }

  /** Keys that unlock the prediction and model endpoints; empty means authentication is off. */
  get apiKeys(): readonly string[] {
    return this.get('AUTH_DISABLED') ? [] : this.get('API_KEYS');
  }
}
