// `npm run soak`: Keyward under load while things break, bounded to under three minutes.
//   - a throwaway PostgreSQL (scripts/postgres.mjs; never the shared test server), restarted once;
//   - faulty-upstream.ts: an OpenAI-compatible provider that answers 5xx, 429, hangs, cuts
//     streams and sends malformed answers when asked to (child);
//   - two Keyward instances (src/main.ts, children) sharing that database, one SIGKILLed and
//     restarted mid-run, the other stopped with SIGTERM and restarted;
//   - callers.ts: 200 concurrent callers, streaming and not, some aborting (child);
//   - this process: the schedule, revocation probes, and the report.
// Exits non-zero if any call got a 500, never ended, or an instance died on its own.

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { openSync, closeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startThrowawayPostgres } from '../../../scripts/postgres.mjs';
import { findPrimaryOrganization } from '../src/accounts/organizations.js';
import { loadConfig } from '../src/config.js';
import { addProviderKey } from '../src/keys/provider-keys.js';
import { createConfidentialClient } from '../src/oauth/clients.js';
import { closeContext, openContext } from '../src/open-context.js';
import { findDefaultLlmProxy } from '../src/proxies/llm-proxies.js';
import { USAGE_FLUSH_INTERVAL_MS } from '../src/usage/usage-sink.js';
import { CookieJar, userTokens, type TokenSet } from '../test/support/oauth-client.js';
import { freePort, type TestPlatform } from '../test/support/test-platform.js';
import type { CallersJob, CallOutcome } from './callers.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const MAIN = join(here, '../src/main.ts');

/** The whole run, setup to report: a stuck piece must not hang `npm run soak`. */
const HARD_LIMIT_MS = 175_000;
const LOAD_MS = Number(process.env.SOAK_LOAD_MS ?? 60_000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 200);
/**
 * Every call's client-side deadline: far beyond anything Keyward should take (upstream timeout
 * 2 s), and beyond the queueing a busy shared 2-core machine adds before a request is even read.
 */
const CALL_DEADLINE_MS = 45_000;
const THINK_MS = 1000;
const UPSTREAM_TIMEOUT_MS = 2000;
const REVOCATION_PROBE_LIMIT_MS = 20_000;
const ADMIN = { email: 'soak@example.com', password: 'a long soak password 4711' };

const FAULTS: CallersJob['faults'] = [
  { fault: 'ok', weight: 45 },
  { fault: 'slow', weight: 10 },
  { fault: 'status-500', weight: 5 },
  { fault: 'status-503', weight: 4 },
  { fault: 'status-429', weight: 5 },
  { fault: 'hang', weight: 3 },
  { fault: 'stall', weight: 3 },
  { fault: 'cut', weight: 8 },
  { fault: 'not-json', weight: 8 },
  { fault: 'wrong-shape', weight: 9 },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const stamp = (at = Date.now()) => `${((at - t0) / 1000).toFixed(1).padStart(5)} s`;
const say = (line: string) => console.log(`[soak ${stamp()}] ${line}`);

function forkScript(name: string): { child: ChildProcess; firstMessage: Promise<any> } {
  const child = fork(join(here, name), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const firstMessage = new Promise<any>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${name} exited (code ${code}) before answering`)));
    child.once('error', reject);
  });
  return { child, firstMessage };
}

/** One Keyward process; restarts itself (and counts it) if it dies without being told to. */
class Instance {
  child: ChildProcess | undefined;
  private expectingExit = false;
  readonly unexpectedExits: string[] = [];
  readonly url: string;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly logFile: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<number> {
    const started = Date.now();
    const log = openSync(this.logFile, 'a');
    this.expectingExit = false;
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      cwd: repoRoot,
      env: { ...process.env, ...this.env, PORT: String(this.port) },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.child !== child || this.expectingExit) return;
      this.unexpectedExits.push(`${stamp()}: exit code ${code} signal ${signal}`);
      say(`${this.name} DIED on its own (code ${code}, signal ${signal}); restarting it`);
      void this.start();
    });
    await this.ready();
    return Date.now() - started;
  }

  async ready(limitMs = 60_000): Promise<void> {
    const until = Date.now() + limitMs;
    while (Date.now() < until) {
      try {
        if ((await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`${this.name} not ready after ${limitMs} ms`);
  }

  /** Sends the signal and waits for the process to end. */
  async stop(signal: NodeJS.Signals, limitMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.expectingExit = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await Promise.race([exited, sleep(limitMs).then(() => child.kill('SIGKILL'))]);
    await exited;
  }
}

interface RevocationProbe {
  label: string;
  /** Per instance probed: ms from the revocation request to the first refusal, null if none came. */
  /**
   * ms: when the first refusal came back (an upper bound: it includes that call's queueing on a
   * busy instance); acceptedUntil: when the last call that was still accepted had been sent (the
   * revocation took effect after it); answered: how many probe calls got any answer at all.
   */
  delays: { instance: string; ms: number | null; acceptedUntil: number | null; answered: number }[];
}

type ProbeTokens = TokenSet & { client: { client_id: string } };

/** Checks the instances take a user's token, revokes its grant, and times each instance's refusal. */
async function probeRevocation(label: string, tokens: ProbeTokens, instances: Instance[], proxyId: string, issuer: Instance): Promise<RevocationProbe> {
  const ask = (instance: Instance) =>
    fetch(`${instance.url}/v1/model-router/${proxyId}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.access_token}` },
      body: JSON.stringify({ model: 'openai:soak-ok', messages: [{ role: 'user', content: 'hi' }] }),
      signal: AbortSignal.timeout(10_000),
    }).then(
      async (r) => {
        await r.body?.cancel();
        return r.status;
      },
      () => 0,
    );
  for (const instance of instances) {
    let status = 0;
    // A busy instance may time a request out: only an answer other than 200 is a finding.
    for (let attempt = 0; attempt < 3 && status === 0; attempt++) status = await ask(instance);
    if (status !== 200) throw new Error(`probe ${label}: the token got ${status} from ${instance.name} before its revocation`);
  }
  const revokedAt = Date.now();
  const revoke = await fetch(`${issuer.url}/api/auth/oauth2/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: tokens.client.client_id, token: tokens.refresh_token!, token_type_hint: 'refresh_token' }),
  });
  if (revoke.status !== 200) throw new Error(`probe ${label}: revocation answered ${revoke.status}`);
  const delays = await Promise.all(
    instances.map(async (instance) => {
      let acceptedUntil: number | null = null;
      let answered = 0;
      while (Date.now() - revokedAt < REVOCATION_PROBE_LIMIT_MS) {
        const sentAt = Date.now() - revokedAt;
        const status = await ask(instance);
        if (status !== 0) answered++;
        if (status === 401) return { instance: instance.name, ms: Date.now() - revokedAt, acceptedUntil, answered };
        if (status === 200) acceptedUntil = sentAt;
        await sleep(50);
      }
      return { instance: instance.name, ms: null, acceptedUntil, answered };
    }),
  );
  return { label, delays };
}

function countBy<T>(items: T[], key: (item: T) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

async function main(): Promise<number> {
  const work = await mkdtemp(join(tmpdir(), 'keyward-soak-'));
  const children: ChildProcess[] = [];
  const instances: Instance[] = [];
  const started = await startThrowawayPostgres();
  if (!started) throw new Error('no PostgreSQL binaries found (looked under /usr/lib/postgresql)');
  const postgres = started;
  // Whatever way this process ends, nothing it started outlives it.
  let cleaned = false;
  const cleanUp = () => {
    if (cleaned) return;
    cleaned = true;
    for (const child of [...children, ...instances.map((i) => i.child)]) if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    postgres.stop();
  };
  process.once('exit', cleanUp);
  const hardLimit = setTimeout(() => {
    console.error(`soak: still running after ${HARD_LIMIT_MS / 1000} s; giving up`);
    process.exit(2);
  }, HARD_LIMIT_MS);
  hardLimit.unref();
  let keepWork = false;
  try {
    say(`PostgreSQL (throwaway) at ${postgres.url}`);
    const upstream = forkScript('faulty-upstream.ts');
    children.push(upstream.child);
    const upstreamUrl = `http://127.0.0.1:${((await upstream.firstMessage) as { port: number }).port}`;

    const ports = await Promise.all([0, 1].map(() => freePort()));
    const env: Record<string, string> = {
      HOST: '127.0.0.1',
      // Both instances are one service behind one URL: tokens name it as their issuer and audience.
      PUBLIC_URL: `http://127.0.0.1:${ports[0]}`,
      DATABASE_URL: postgres.url,
      KEYWARD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      KEYWARD_ADMIN_EMAIL: ADMIN.email,
      KEYWARD_ADMIN_PASSWORD: ADMIN.password,
      KEYWARD_LOG_LEVEL: process.env.SOAK_LOG_LEVEL ?? 'warn',
      KEYWARD_UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
      KEYWARD_SHUTDOWN_GRACE_MS: '5000',
    };
    for (const [i, name] of ['A', 'B'].entries()) {
      instances.push(new Instance(name, ports[i]!, { ...env, KEYWARD_DATA_DIR: join(work, `data-${name}`) }, join(work, `${name}.log`)));
    }
    const [a, b] = instances as [Instance, Instance];
    // One at a time: the first start creates the organization and its admin.
    say(`instance A up in ${await a.start()} ms`);
    say(`instance B up in ${await b.start()} ms`);

    const ctx = await openContext(loadConfig({ ...env, KEYWARD_DATA_DIR: join(work, 'setup'), PORT: '0' }));
    const org = (await findPrimaryOrganization(ctx.db))!;
    const proxy = (await findDefaultLlmProxy(ctx.db))!;
    await addProviderKey(ctx.db, ctx.box, { organizationId: org.id, provider: 'openai', apiKey: 'sk-soak-0123456789abcdef', baseUrl: `${upstreamUrl}/v1`, scope: 'org' });
    const client = await createConfidentialClient(ctx, { name: 'soak callers', proxyIds: [proxy.id] });
    ctx.changes.stop();
    await closeContext(ctx);
    const tokenResponse = await fetch(`${a.url}/api/auth/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'llm:proxy' }),
    });
    const { access_token: token } = (await tokenResponse.json()) as { access_token?: string };
    if (!token) throw new Error(`could not get a client-credentials token (${tokenResponse.status})`);

    // The probes' tokens first (one sign-in, one app per probe): signing in under load is slow.
    const jar = new CookieJar();
    const probeTokens = new Map<string, ProbeTokens>();
    for (const label of ['steady', 'while A restarts', 'after PostgreSQL restart', 'after SIGTERM restart']) {
      probeTokens.set(label, await userTokens({ url: a.url, admin: ADMIN } as unknown as TestPlatform, { clientName: `soak probe ${label}`, jar }));
    }

    // The load, in its own process, while this one breaks things on a schedule.
    const callers = forkScript('callers.ts');
    children.push(callers.child);
    const job: CallersJob = { origins: instances.map((i) => i.url), proxyId: proxy.id, token, durationMs: LOAD_MS, concurrency: CONCURRENCY, deadlineMs: CALL_DEADLINE_MS, faults: FAULTS, thinkMs: THINK_MS };
    callers.child.send(job);
    const loadStart = Date.now();
    say(`load: ${CONCURRENCY} callers for ${LOAD_MS / 1000} s on A and B; faults ${FAULTS.map((f) => `${f.fault} ${f.weight}%`).join(', ')}`);
    const at = (ms: number) => sleep(Math.max(0, loadStart + ms - Date.now()));
    const events: string[] = [];
    const kills: { instance: number; at: number; backAt: number }[] = [];
    const probes: RevocationProbe[] = [];
    const describe = (p: RevocationProbe) =>
      p.delays
        .map((d) => {
          const after = d.acceptedUntil === null ? '' : ` (last accepted call sent at ${d.acceptedUntil} ms)`;
          if (d.ms !== null) return `${d.instance} ${d.ms} ms${after}`;
          return d.answered === 0 ? `${d.instance} NO ANSWER (instance down or overloaded)` : `${d.instance} NEVER${after}`;
        })
        .join(', ') || 'did not run';
    const probe = async (label: string, targets = instances, issuer = a) => {
      try {
        const result = await probeRevocation(label, probeTokens.get(label)!, targets, proxy.id, issuer);
        probes.push(result);
        say(`revocation probe "${label}": refused after ${describe(result)}`);
      } catch (error) {
        probes.push({ label, delays: [] });
        say(`revocation probe "${label}" could not run: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    const schedule = (async () => {
      try {
        await chaos();
      } catch (error) {
        events.push(`the schedule stopped at ${stamp()}: ${error instanceof Error ? error.message : String(error)}`);
        say(events.at(-1)!);
      }
    })();
    async function chaos() {
      // Probes run beside the schedule, so a slow one never delays what breaks next.
      const running: Promise<void>[] = [];
      await at(0.08 * LOAD_MS);
      running.push(probe('steady', instances, b)); // B issues: A is killed next
      await at(0.2 * LOAD_MS);
      const kill = { instance: 0, at: Date.now(), backAt: Infinity };
      kills.push(kill);
      await a.stop('SIGKILL');
      say('instance A killed (SIGKILL); restarting it');
      const aBack = a.start().then((ms) => {
        kill.backAt = Date.now();
        events.push(`A SIGKILLed at ${stamp(kill.at)}, back up in ${ms} ms`);
        say(events.at(-1)!);
      });
      aBack.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled".
      await at(0.3 * LOAD_MS);
      running.push(probe('while A restarts', [b], b));
      await at(0.45 * LOAD_MS);
      const pgStarted = Date.now();
      postgres.restart();
      events.push(`PostgreSQL restarted at ${stamp(pgStarted)} (down ${Date.now() - pgStarted} ms)`);
      say(events.at(-1)!);
      await at(0.55 * LOAD_MS);
      running.push(probe('after PostgreSQL restart', Number.isFinite(kill.backAt) ? instances : [b], b));
      await aBack;
      await at(0.7 * LOAD_MS);
      const termAt = Date.now();
      await b.stop('SIGTERM');
      events.push(`B stopped with SIGTERM at ${stamp(termAt)}, back up in ${await b.start()} ms`);
      say(events.at(-1)!);
      running.push(probe('after SIGTERM restart'));
      await Promise.all(running);
    }
    const answer = (await callers.firstMessage) as { outcomes?: CallOutcome[]; loopDelayMaxMs?: number; error?: string };
    await schedule;
    if (!answer.outcomes) throw new Error(`callers failed: ${answer.error}`);
    const outcomes = answer.outcomes;
    say(`load over: ${outcomes.length} calls; stopping both instances with SIGTERM`);
    await Promise.all(instances.map((i) => i.stop('SIGTERM')));

    // Usage records against the calls that got an answer from the router.
    const db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    const rows = (await db.query<{ request_id: string }>("select request_id from usage_records where request_id like 'soak-%'")).rows;
    await db.end();
    const recorded = new Set(rows.map((r) => r.request_id));

    const answered = outcomes.filter((o) => o.kind === 'answered');
    // Fastify's own 503 while an instance closes never reaches the router: nothing to meter.
    const closing = answered.filter((o) => o.status === 503 && o.cause === null);
    const metered = answered.filter((o) => !closing.includes(o));
    const missing = metered.filter((o) => !recorded.has(o.requestId));
    // A killed instance answers nothing until it is back, so what it answered and lost ended (as the
    // callers saw it, a little late under load) between shortly before the kill and its return.
    const killOf = (o: CallOutcome) => kills.find((k) => k.instance === o.instance && o.endedAt >= k.at - 5000 && o.endedAt <= k.backAt);
    const lostToKill = missing.filter((o) => killOf(o));
    const lostOtherwise = missing.filter((o) => !lostToKill.includes(o));
    // The loss as time: records lost ÷ the rate at which the instance answered just before the kill.
    const killRates = kills.map((k) => metered.filter((o) => o.instance === k.instance && o.endedAt >= k.at - 10_000 && o.endedAt < k.at).length / 10);
    const lossWindowMs = kills.length && killRates[0] ? Math.round((lostToKill.length / killRates[0]) * 1000) : 0;
    const aborted = outcomes.filter((o) => o.kind === 'aborted');
    const neverEnded = outcomes.filter((o) => o.kind === 'never-ended');
    const fiveHundreds = answered.filter((o) => o.status === 500);
    const fiveXx = answered.filter((o) => o.status !== null && o.status >= 500);
    const streamErrors = answered.filter((o) => o.streamError);
    const elapsed = (Date.now() - loadStart) / 1000;

    const logs = (await Promise.all(instances.map((i) => readFile(join(work, `${i.name}.log`), 'utf8').catch(() => '')))).join('\n');
    const errorLines = logs.split('\n').filter((l) => /"level":(50|60)/.test(l));
    const errorMessages = countBy(errorLines, (l) => {
      try {
        const entry = JSON.parse(l) as { msg?: string; err?: { message?: string } };
        return `${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message.slice(0, 120)}` : ''}`;
      } catch {
        return l.slice(0, 160);
      }
    });

    const cpu = cpus();
    console.log(`\n## Keyward soak — ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, Node ${process.version}, PostgreSQL (throwaway), ${LOAD_MS / 1000} s of load, ${elapsed.toFixed(1)} s until every call had ended\n`);
    for (const event of events) console.log(`- ${event}`);
    console.log(`\nrequests                 ${outcomes.length} (${(outcomes.length / (LOAD_MS / 1000)).toFixed(0)}/s; ${outcomes.filter((o) => o.stream).length} streaming, ${outcomes.filter((o) => o.wire === 'anthropic').length} on the Anthropic wire)`);
    console.log(`  answered               ${answered.length}`);
    console.log(`  aborted by the caller  ${aborted.length}`);
    console.log(`  connection refused/cut ${outcomes.filter((o) => o.kind === 'connection-error').length} (instance down or killed)`);
    console.log(`  never ended            ${neverEnded.length}   (must be 0; client deadline ${CALL_DEADLINE_MS / 1000} s)`);
    console.log(`  callers' longest event-loop stall ${answer.loopDelayMaxMs} ms (a stalled client makes calls look slow)`);
    const durations = answered.map((o) => o.endedAt - o.startedAt).sort((x, y) => x - y);
    const pct = (p: number) => durations[Math.min(durations.length - 1, Math.floor(p * durations.length))] ?? 0;
    console.log(`  answered in (client)   p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${durations.at(-1) ?? 0} ms`);
    console.log(`\nstatus                   ${countBy(answered, (o) => String(o.status)).map(([s, n]) => `${s} × ${n}`).join(', ')}`);
    console.log(`5xx by cause             ${fiveXx.length ? countBy(fiveXx, (o) => `${o.status} ${o.cause ?? 'closing'}`).map(([c, n]) => `${c} × ${n}`).join(', ') : 'none'}`);
    console.log(`stream errors (after 200) ${streamErrors.length ? countBy(streamErrors, (o) => o.cause ?? '?').map(([c, n]) => `${c} × ${n}`).join(', ') : 'none'}`);
    console.log(`500                      ${fiveHundreds.length}   (must be 0)${fiveHundreds.length ? ` — by fault asked: ${countBy(fiveHundreds, (o) => `${o.wire}/${o.stream ? 'stream' : 'json'}/${o.fault}`).map(([c, n]) => `${c} × ${n}`).join(', ')}` : ''}`);
    console.log(`\nusage records            ${metered.length - missing.length} of ${metered.length} answered calls (${closing.length} answered 503 by an instance closing: not the router's)`);
    console.log(
      `  lost to SIGKILL        ${lostToKill.length} = ${lossWindowMs} ms of that instance's answers (${killRates[0] ?? 0}/s before the kill); flush interval ${USAGE_FLUSH_INTERVAL_MS} ms`,
    );
    console.log(`  lost otherwise         ${lostOtherwise.length}   (SIGTERM and PostgreSQL restarts must lose none)`);
    console.log(`  aborted calls metered  ${aborted.filter((o) => recorded.has(o.requestId)).length} of ${aborted.length} (an abort before the request arrived leaves nothing to meter)`);
    const delays = probes.flatMap((p) => p.delays.map((d) => d.ms));
    const worst = delays.some((d) => d === null) ? null : Math.max(...(delays as number[]));
    console.log(`\nrevocation               ${probes.map((p) => `${p.label}: ${describe(p)}`).join('; ')}`);
    console.log(`  longest delay seen     ${delays.length === 0 ? 'no probe ran' : worst === null ? `NOT REFUSED within ${REVOCATION_PROBE_LIMIT_MS / 1000} s on some instance` : `${worst} ms`} (contract: 5000 ms)`);
    const lowerBounds = probes.flatMap((p) => p.delays.map((d) => d.acceptedUntil ?? 0));
    console.log(`  longest still accepted ${lowerBounds.length ? Math.max(...lowerBounds) : 0} ms after a revocation (the delay lies between this and the first refusal's answer, which includes queueing)`);
    const died = instances.flatMap((i) => i.unexpectedExits.map((e) => `${i.name} ${e}`));
    console.log(`\ninstances died on their own ${died.length ? died.join('; ') : 0}`);
    console.log(`error log lines          ${errorLines.length}`);
    for (const [message, n] of errorMessages.slice(0, 8)) console.log(`  ${n} × ${message}`);

    const failed = fiveHundreds.length > 0 || neverEnded.length > 0 || died.length > 0;
    console.log(`\n${failed ? 'FAILED' : 'PASSED'}: ${fiveHundreds.length} × 500, ${neverEnded.length} calls that never ended, ${died.length} instance deaths`);
    if (failed) {
      keepWork = true;
      await writeFile(join(work, 'outcomes.json'), JSON.stringify({ kills, missing, fiveHundreds, neverEnded, outcomes }));
      console.log(`instance logs and outcomes.json kept in ${work}`);
    }
    return failed ? 1 : 0;
  } finally {
    for (const instance of instances) await instance.stop('SIGKILL').catch(() => undefined);
    cleanUp();
    if (!keepWork) await rm(work, { recursive: true, force: true });
    clearTimeout(hardLimit);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
