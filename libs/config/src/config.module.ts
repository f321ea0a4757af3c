import { Global, Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule } from '@nestjs/config';
import { AppConfig } from './app-config';
import { validateEnvironment } from './environment';

/** Reads the environment (and an optional `.env`) once at boot and fails fast on any bad value. */
@Global()
@Module({
  imports: [
    NestConfigModule.forRoot({
      envFilePath: '.env',
      validate: validateEnvironment,
      // The validated values are served by ConfigService; process.env is left as it was.
      ignoreEnvVars: false,
      cache: true,
    }),
  ],
  providers: [AppConfig],
  exports: [AppConfig],
})
export class ConfigModule {}
