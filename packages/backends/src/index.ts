// Filled by the backends work; see README.md.
export {};
