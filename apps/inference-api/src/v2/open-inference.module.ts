import { InferenceModule } from '@app/inference';
import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { OpenInferenceController } from './open-inference.controller';
import { RepositoryController } from './repository.controller';
import { UntypedBodyAsJson } from './untyped-body-as-json';

/**
 * The Open Inference Protocol (V2) over REST: its routes (the repository extension's too), and the one allowance its
 * clients need of the body parser.
 */
@Module({
  imports: [InferenceModule],
  controllers: [OpenInferenceController, RepositoryController],
})
export class OpenInferenceModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(UntypedBodyAsJson).forRoutes(OpenInferenceController, RepositoryController);
  }
}
