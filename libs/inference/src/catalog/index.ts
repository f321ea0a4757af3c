export { ModelCatalogModule } from './catalog.module';
export { manifestPathOf, readManifestOf } from './manifest';
export {
  type CatalogEntry,
  type CatalogModel,
  type CatalogProblem,
  type CatalogScan,
  defaultVersionOf,
  ModelCatalog,
  type ModelSource,
} from './model-catalog';
export {
  byVersion,
  DEFAULT_VERSION_POLICY,
  defaultVersionAmong,
  describePolicy,
  type ModelConfig,
  parseModelConfig,
  selectVersions,
  type VersionPolicy,
} from './version-policy';
