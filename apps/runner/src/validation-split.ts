/** Share of the training split held out for validation when an experiment does not say. */
export const DEFAULT_VALIDATION_FRACTION = 0.1;
/** Seed of the validation split when an experiment does not say (independent of the model seeds). */
export const DEFAULT_VALIDATION_SEED = 0;
