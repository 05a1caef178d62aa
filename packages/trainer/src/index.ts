// Filled by the trainer work; see README.md.
export {};
