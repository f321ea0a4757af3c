export { AppConfig } from './app-config';
export { ConfigModule } from './config.module';
export { Environment, EnvironmentValidationError, validateEnvironment } from './environment';
