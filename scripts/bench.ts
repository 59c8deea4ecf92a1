/** `npm run bench`: prints the product's performance figures on this machine. */
import { benchSandboxes } from './bench/sandboxes.ts';

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`Benchmarks on Node ${process.version}, ${(await import('node:os')).cpus().length} cores\n`);
  await benchSandboxes();
  console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
