// Filled by the models work; see README.md.
export {};
