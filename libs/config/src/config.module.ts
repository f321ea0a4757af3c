import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule } from '@nestjs/config';
import { AppConfig } from './app-config';
import { validateEnvironment } from './environment';

/**
 * Reads the environment (and an optional `.env`, whose values yield to the real environment) once at boot
 * and fails fast on any bad value. `forRoot()` reads the environment when it is called, not when this file is
 * imported, so a test can set variables and then build an app.
 */
@Module({})
export class ConfigModule {
  static forRoot(): DynamicModule {
    return {
      module: ConfigModule,
      global: true,
      imports: [
        NestConfigModule.forRoot({ envFilePath: '.env', validate: validateEnvironment, cache: true }),
      ],
      providers: [AppConfig],
      exports: [AppConfig],
    };
  }
}
