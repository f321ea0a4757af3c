import { Module } from '@nestjs/common';
import { ModelCatalog } from './model-catalog';

/** What the models are, without running any: for the runtime registry, monitoring and the CLI. */
@Module({
  providers: [ModelCatalog],
  exports: [ModelCatalog],
})
export class ModelCatalogModule {}
