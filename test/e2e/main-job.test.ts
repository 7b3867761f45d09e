// The README's main-job command, `npm start`, run the way a newcomer runs it:
// in a fresh clone, set-up and build included, then Ctrl-C. It must issue a
// key of each kind that works at the provider, and after the stop nothing it
// started may still run and the keys must no longer work.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../support/paths.ts";
import { startOpenAIEmulator, type OpenAIEmulator } from "../../tools/emulators/openai/emulator.ts";
import { startLiteLLMEmulator, type LiteLLMEmulator } from "../../tools/emulators/litellm/emulator.ts";

const SETUP_TIMEOUT_MS = 20 * 60_000;

interface Run {
  child: ChildProcess;
  output: () => string;
  /** The exit code, or the signal that ended it. */
  exited: Promise<number | string | null>;
}

/** `npm start` in its own process group, as a terminal would run it. */
function npmStart(cwd: string, env: NodeJS.ProcessEnv): Run {
  let text = "";
  const child = spawn("npm", ["start"], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d: Buffer) => (text += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
  return { child, output: () => text, exited };
}

async function waitForOutput(run: Run, needle: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!run.output().includes(needle)) {
    if (run.child.exitCode !== null) throw new Error(`npm start exited (${run.child.exitCode}) before printing "${needle}":\n${run.output().slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`npm start did not print "${needle}" in time:\n${run.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Every process descended from `pid`, read from /proc. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parent.set(Number(entry), Number(fields[1]));
    } catch {
      // gone already
    }
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) if (pp === p) (found.push(child), walk(child));
  };
  walk(pid);
  return found;
}

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

function field(output: string, name: string): string {
  const m = output.match(new RegExp(`^\\s+${name}\\s+(\\S+)$`, "m"));
  assert.ok(m, `npm start printed no ${name}`);
  return m[1]!;
}

async function status(url: string, key: string): Promise<number> {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${key}` } });
  await res.arrayBuffer();
  return res.status;
}

/** Ctrl-C in the terminal: SIGINT to the foreground process group. */
// npm re-raises the SIGINT once its script has exited, as a shell expects of
// a Ctrl-C, so the job's own verdict is read from what it printed.
async function interrupt(run: Run): Promise<{ leftovers: number[] }> {
  const started = [run.child.pid!, ...descendants(run.child.pid!)];
  process.kill(-run.child.pid!, "SIGINT");
  const ended = await Promise.race([run.exited, new Promise<string>((r) => setTimeout(() => r("still running"), 120_000))]);
  assert.ok(ended === 0 || ended === "SIGINT", `npm start ended with ${ended}:\n${run.output().slice(-3000)}`);
  assert.match(run.output(), /\nStopped\.\n/);
  assert.doesNotMatch(run.output(), /STILL WORKS|revocation failed/);
  await new Promise((r) => setTimeout(r, 500));
  return { leftovers: started.filter(running) };
}

describe("npm start in a fresh clone", () => {
  let clone: string;
  const cleanEnv = () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (/^(OPENAI_|LITELLM_|OPENROUTER_|BAO_|VAULT_)/.test(k)) delete env[k];
    return env;
  };

  before(() => {
    clone = mkdtempSync(join(tmpdir(), "main-job-"));
    execFileSync("git", ["clone", "--quiet", ROOT, clone]);
  });
  after(() => rmSync(clone, { recursive: true, force: true }));

  test("sets up, issues an OpenAI and a LiteLLM key that work at the emulators, and Ctrl-C revokes them and stops everything", { timeout: SETUP_TIMEOUT_MS + 180_000 }, async () => {
    const run = npmStart(clone, cleanEnv());
    try {
      await waitForOutput(run, "Press Ctrl-C", SETUP_TIMEOUT_MS);
    } catch (err) {
      if (run.child.exitCode === null) process.kill(-run.child.pid!, "SIGKILL");
      throw err;
    }
    const out = run.output();
    assert.match(out, /==> Installing npm packages|==> Building the plugin executables/, "set-up progress is printed");
    const openaiUrl = out.match(/OpenAI Admin API emulator on 127\.0\.0\.1\n\s+(\S+)/)![1]!;
    const litellmUrl = out.match(/LiteLLM proxy emulator on 127\.0\.0\.1\n\s+(\S+)/)![1]!;
    const openaiKey = field(out, "api_key");
    const litellmKey = field(out, "key");
    assert.match(field(out, "lease_id"), /^openai\/creds\/analytics\//);
    assert.equal(await status(`${openaiUrl}/models`, openaiKey), 200);
    assert.equal(await status(`${litellmUrl}/v1/models`, litellmKey), 200);

    const { leftovers } = await interrupt(run);
    const after = run.output();
    assert.match(after, /the openai key issued at start-up no longer works at the provider/);
    assert.match(after, /the litellm key issued at start-up no longer works at the provider/);
    assert.deepEqual(leftovers, [], "processes started by npm start still run after Ctrl-C");
    await assert.rejects(fetch(`${openaiUrl}/models`), "the OpenAI emulator still answers after the stop");
  });

  describe("against providers named in the environment", () => {
    let openai: OpenAIEmulator;
    let litellm: LiteLLMEmulator;
    before(async () => {
      openai = await startOpenAIEmulator();
      litellm = await startLiteLLMEmulator();
    });
    after(async () => {
      await openai?.close();
      await litellm?.close();
    });

    test("uses them instead of its emulators, and after Ctrl-C the provider has deleted both keys", { timeout: SETUP_TIMEOUT_MS + 180_000 }, async () => {
      const run = npmStart(clone, {
        ...cleanEnv(),
        OPENAI_ADMIN_API_KEY: openai.adminKey,
        OPENAI_ADMIN_API_KEY_ID: openai.adminKeyId,
        OPENAI_ORG_ID: openai.organizationId,
        OPENAI_TEST_PROJECT_ID: openai.projects[0]!.id,
        OPENAI_API_ENDPOINT: openai.baseUrl,
        LITELLM_BASE_URL: litellm.baseUrl,
        LITELLM_MASTER_KEY: litellm.masterKey,
      });
      try {
        await waitForOutput(run, "Press Ctrl-C", SETUP_TIMEOUT_MS);
      } catch (err) {
        if (run.child.exitCode === null) process.kill(-run.child.pid!, "SIGKILL");
        throw err;
      }
      const out = run.output();
      assert.doesNotMatch(out, /emulator on 127\.0\.0\.1/);
      const openaiKey = field(out, "api_key");
      const litellmKey = field(out, "key");
      const account = field(out, "service_account_id");
      assert.equal(await status(`${openai.baseUrl}/models`, openaiKey), 200);
      assert.equal(await status(`${litellm.baseUrl}/v1/models`, litellmKey), 200);

      const { leftovers } = await interrupt(run);
      assert.deepEqual(leftovers, []);
      assert.equal(await status(`${openai.baseUrl}/models`, openaiKey), 401);
      assert.equal(await status(`${litellm.baseUrl}/v1/models`, litellmKey), 401);
      const state = openai.control.state() as { projects: Array<{ service_accounts: Array<{ id: string }> }> };
      assert.ok(!state.projects.some((p) => p.service_accounts.some((a) => a.id === account)), "the service account is gone");
    });
  });
});
