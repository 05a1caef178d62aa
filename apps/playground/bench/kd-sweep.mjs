// Loads kd-sweep.ts through Vite (TypeScript, workspace sources) and runs it in Node.
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const server = await createServer({
  root,
  configFile: false,
  logLevel: 'error',
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, ws: false },
  resolve: { conditions: ['@distilljs/source'] },
  ssr: { resolve: { conditions: ['@distilljs/source'] } },
});
try {
  const mod = await server.ssrLoadModule('/bench/kd-sweep.ts');
  await mod.main(process.argv.slice(2));
} finally {
  await server.close();
}
