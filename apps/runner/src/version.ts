/** The runner's version (kept in step with package.json by a test). */
export const RUNNER_VERSION = '0.1.0';
