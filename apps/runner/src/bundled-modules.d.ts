// Modules that exist only in the single-file build (tsup.bundle.config.ts makes them).
declare module 'bundled:chart-js' {
  /** The Chart.js UMD bundle. */
  const source: string;
  export default source;
}
declare module 'bundled:mnist-digits' {
  /** The embedded digits, packed by packMnistDigits and gzipped. */
  const bytes: Uint8Array;
  export default bytes;
}
