/**
 * One product under test: the sandboxes in one child process (`npm run sandbox`, with added latency), the
 * sync server in another (`npm start` in server-only mode, SQLite in a fresh temp directory), and a tenant
 * wired between them. Three processes, so the server's memory is its own and the load generator (this
 * process) does not share its event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from './http.ts';
import { startSandboxChild, type SandboxLine } from './sandboxes.ts';
import { provisionTenant, serverEnv } from './sync-tenant.ts';

export interface SyncStack {
  info: SandboxLine;
  /** The process running both sandboxes. */
  sandboxPid: number;
  server: { url: string; pid: number };
  tenant: { id: string; apiKey: string };
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Added to every sandbox API request (not to control routes). */
  latencyMs: number;
  /**
   * The server's `--max-old-space-size` in MB (0: Node's default). Without a cap V8 lets garbage pile up while
   * memory is plentiful, so peaks then say more about the collector's pace than about what the server keeps.
   */
  serverHeapMb: number;
}

/** A port that was free a moment ago: the webhook URLs must name the server's port before it starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`the sync server exited with code ${child.exitCode} during start-up`);
    const ok = await request(`${url}/healthz`).then((r) => r.status === 200, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the sync server did not answer ${url}/healthz within ${timeoutMs / 1000} s`);
}

function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    // The server finishes running jobs before it exits; one stuck behind a rate limit must not stall the bench.
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startStack(o: StackOptions): Promise<SyncStack> {
  const sandboxes = await startSandboxChild(['--latency', String(o.latencyMs)]);
  const dataDir = mkdtempSync(join(tmpdir(), 'sync-bench-'));
  let server: ChildProcess | undefined;
  const stop = async () => {
    if (server) await stopChild(server);
    await sandboxes.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = serverEnv(sandboxes.info, dataDir, randomBytes(32).toString('base64'));
    const tenant = await provisionTenant({ info: sandboxes.info, env, serverUrl: url });
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env, ...env, SYNC_SANDBOX: '0', PORT: String(port), LOG_LEVEL: 'warn',
      // The safety-net polls would re-read what the bench changed and add calls the measurement did not ask for;
      // the backfill triggers its one poll itself.
      POLL_INTERVAL_MINUTES: '60',
    };
    for (const k of ['DATABASE_URL', 'PUBLIC_URL', 'ENCRYPTION_KEY_ID', 'ENCRYPTION_OLD_KEYS']) delete childEnv[k];
    const heap = o.serverHeapMb > 0 ? [`--max-old-space-size=${o.serverHeapMb}`] : [];
    server = spawn(process.execPath, [...heap, '--import', 'tsx', 'scripts/start.ts'], { env: childEnv, stdio: ['ignore', 'ignore', 'inherit'] });
    await waitHealthy(url, server);
    return { info: sandboxes.info, sandboxPid: sandboxes.pid, server: { url, pid: server.pid! }, tenant: { id: tenant.tenantId, apiKey: tenant.apiKey }, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
