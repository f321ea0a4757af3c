export { adaptModel, type AdaptedModel, UnservableModelError } from './adapt-model';
export { interpretOutputs, type OutputTensor } from './interpret-outputs';
