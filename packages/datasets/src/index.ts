// Filled by the datasets work; see README.md.
export {};
