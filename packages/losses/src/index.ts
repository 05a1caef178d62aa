// Filled by the losses work; see README.md.
export {};
