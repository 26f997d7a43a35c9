// The portal's browser journey, in Debian's chromium through playwright-core,
// against the real server binary on a temp data dir (SQLite, dev outbox):
// an operator made with `cosync-auth developer create --operator` signs in,
// creates an application with a required metadata field, copies the JWKS
// URL, edits a template and sees the preview change, rotates the key; a user
// signs up through the Auth API; the developer finds the user by search and
// suspends them (the user's next refresh fails), creates an API key, adds a
// member with the viewer role who then cannot change settings; a developer
// signs up to the console. Every page is checked with axe-core (no serious
// or critical violation) and for CSP violations, and photographed into
// test-results/ (readme.png is the README's picture, docs/img/portal.png).
//
// Env: COSYNC_BIN (the cosync-auth binary), PORTAL_SERVE_BIN (portal/e2e/serve
// built with the bundle embedded; leave it unset once the server mounts
// portal.Handler() itself, and the journey uses the server's own /),
// CHROMIUM (default /usr/bin/chromium).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const here = new URL(".", import.meta.url).pathname;
const results = join(here, "..", "test-results");
mkdirSync(results, { recursive: true });

const cosyncBin = process.env.COSYNC_BIN;
const serveBin = process.env.PORTAL_SERVE_BIN;
if (!cosyncBin) {
  console.error("journey: set COSYNC_BIN, and PORTAL_SERVE_BIN unless the server serves the portal (scripts/test-portal.sh does)");
  process.exit(2);
}

let passed = 0;
let failed = 0;
const children = [];
const cleanups = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** waitFor polls cond until it returns a truthy value or the deadline passes. */
async function waitFor(what, cond, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

function start(bin, args, env, name) {
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  child.on("exit", (code) => {
    if (code !== null && code !== 0 && !child.stopping) console.error(`journey: ${name} exited ${code}:\n${out}`);
  });
  children.push(child);
  return { child, output: () => out };
}

async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (err) {
    failed++;
    await pageForFailures?.screenshot({ path: join(results, `FAILED-${name.replace(/\W+/g, "-")}.png`), fullPage: true }).catch(() => {});
    console.log(`FAIL ${name}\n     ${String(err?.stack ?? err).split("\n").slice(0, 4).join("\n     ")}`);
    throw err;
  }
}


const cspViolations = [];
let pageForFailures;

async function checkPage(page, name) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
  await page.screenshot({ path: join(results, `${name}.png`), fullPage: true });
  if (violations.length) throw new Error(`axe on ${name}:\n  ${violations.join("\n  ")}`);
  if (cspViolations.length) throw new Error(`CSP violations on ${name}: ${cspViolations.join("; ")}`);
}

async function main() {
  const data = mkdtempSync(join(tmpdir(), "cosync-journey-"));
  const profile = mkdtempSync(join(tmpdir(), "cosync-chromium-"));
  cleanups.push(() => rmSync(data, { recursive: true, force: true }), () => rmSync(profile, { recursive: true, force: true }));
  const [apiPort, portalPort] = [await freePort(), await freePort()];
  const base = `http://127.0.0.1:${serveBin ? portalPort : apiPort}`;
  const env = {
    COSYNC_DATA_DIR: data,
    COSYNC_ADDR: `127.0.0.1:${apiPort}`,
    COSYNC_PUBLIC_URL: base,
    COSYNC_DEVELOPER_PASSWORD: "journey-password-1",
    // Developers may sign up to the console themselves (the last step).
    COSYNC_DEVELOPER_SIGNUP: "true",
  };
  const email = "dev@example.com";
  const viewer = "viewer@example.com";
  execFileSync(cosyncBin, ["developer", "create", "--operator", "--email", email], { env: { ...process.env, ...env }, cwd: data, stdio: "pipe" });
  execFileSync(cosyncBin, ["developer", "create", "--email", viewer], { env: { ...process.env, ...env }, cwd: data, stdio: "pipe" });
  start(cosyncBin, ["serve"], env, "cosync-auth", data);
  await waitFor("the server", async () => (await fetch(`http://127.0.0.1:${apiPort}/readyz`)).ok);
  if (serveBin) {
    const serve = start(serveBin, ["-addr", `127.0.0.1:${portalPort}`, "-api", `http://127.0.0.1:${apiPort}`], {}, "portal serve");
    await waitFor("the portal", () => serve.output().includes("portal listening"));
  }
  // The operator's own API session, for what the journey reads behind the
  // browser's back (outboxes, codes). Signed in once, and again only when
  // the server ends it (the password reset does): sign-ins are rate-limited.
  const op = { password: "journey-password-1", token: "" };
  const opLogin = async () => {
    op.token = (await call(base, "cosync.auth.v1.AuthService/Login", { handle: email, password: op.password })).session.accessToken;
    return op.token;
  };
  adminCall = async (method, body) => {
    if (!op.token) await opLogin();
    try {
      return await call(base, `cosync.admin.v1.AdminService/${method}`, body, op.token);
    } catch (err) {
      if (!/: 401 /.test(String(err))) throw err;
      await opLogin();
      return call(base, `cosync.admin.v1.AdminService/${method}`, body, op.token);
    }
  };
  await opLogin();
  const index = await (await fetch(base + "/")).text();
  if (!index.includes('type="module"')) throw new Error(`${base}/ serves no portal bundle (built with scripts/build-portal.sh?): ${index.slice(0, 200)}`);

  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
    permissions: ["clipboard-read", "clipboard-write"],
  });
  cleanups.unshift(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  // Generous: two shared cores, and an RSA key generation per rotation.
  page.setDefaultTimeout(60000);
  pageForFailures = page;
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on("pageerror", (err) => cspViolations.push(`page error: ${err.message}`));

  let appId = "";
  await step("sign-in page", async () => {
    await page.goto(base + "/");
    await page.getByRole("heading", { name: "Sign in to CoSync Auth" }).waitFor();
    await checkPage(page, "01-sign-in");
  });
  await step("a wrong password is refused in plain words", async () => {
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "do not match an account" }).waitFor();
  });
  await step("the developer signs in, from the keyboard", async () => {
    await page.getByLabel("Password").fill("journey-password-1");
    await page.getByLabel("Password").press("Enter");
    await page.getByRole("heading", { name: "Applications" }).waitFor();
    await checkPage(page, "02-apps");
  });
  await step("the operator sees the operator page: every app and the developers", async () => {
    await page.getByRole("link", { name: "Operator" }).click();
    await page.getByRole("heading", { name: "All applications" }).waitFor();
    await page.getByRole("link", { name: viewer }).waitFor();
    await checkPage(page, "02b-operator");
    await page.getByRole("link", { name: "CoSync Auth" }).click();
    await page.getByRole("heading", { name: "Applications" }).waitFor();
  });
  await step("the account page offers an authenticator app", async () => {
    await page.getByRole("link", { name: email }).click();
    await page.getByRole("heading", { name: "Your account" }).waitFor();
    await page.getByRole("button", { name: "Set up an authenticator app" }).waitFor();
    await checkPage(page, "02c-account");
    await page.getByRole("link", { name: "CoSync Auth" }).click();
    await page.getByRole("heading", { name: "Applications" }).waitFor();
  });
  await step("creates an app with a required metadata field", async () => {
    await page.getByRole("link", { name: "Create an application" }).click();
    await page.getByRole("heading", { name: "Create an application" }).waitFor();
    await page.getByRole("textbox", { name: "Name", exact: true }).fill("Journey App");
    await page.getByLabel("Audience").fill("journey-atlas-app");
    await page.getByRole("button", { name: "Add a field" }).click();
    await page.getByLabel("Path in the token").fill("sub.plan");
    await page.getByRole("button", { name: "Create application" }).click();
    // The browser refuses a reserved claim as the server would.
    await page.getByText('would overwrite the reserved claim "sub"').waitFor();
    await page.getByLabel("Path in the token").fill("user_data.plan");
    await page.getByLabel("Name shown to users").fill("Plan");
    await page.getByLabel("Required").check();
    await checkPage(page, "03-create-app");
    await page.getByRole("button", { name: "Create application" }).click();
    await page.getByRole("heading", { name: "What your backend trusts" }).waitFor();
    appId = decodeURIComponent(new URL(page.url()).hash.split("/")[2]);
    if (!appId) throw new Error(`no app id in ${page.url()}`);
  });
  await step("copies the JWKS URL, which serves the app's key", async () => {
    await page.getByRole("button", { name: "Copy JWKS URL" }).click();
    await page.getByRole("button", { name: "Copied JWKS URL" }).waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    const want = `${base}/apps/${appId}/.well-known/jwks.json`;
    if (copied !== want) throw new Error(`clipboard = ${copied}, want ${want}`);
    const jwks = await (await fetch(copied)).json();
    if (jwks.keys?.length !== 1) throw new Error(`JWKS has ${jwks.keys?.length} keys, want 1`);
    await checkPage(page, "04-keys");
  });
  await step("the settings show the required field", async () => {
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("heading", { name: "Sign-up and invitations" }).waitFor();
    const group = page.getByRole("group", { name: "Field 1" }).first();
    const path = await group.getByLabel("Path in the token").inputValue();
    const required = await group.getByLabel("Required").isChecked();
    if (path !== "user_data.plan" || !required) throw new Error(`field 1 = ${path}, required ${required}`);
    await checkPage(page, "05-settings");
  });
  await step("a setting outside the server's rules shows the reason beside the field, then saves", async () => {
    await page.getByLabel("Access-token lifetime").fill("30s");
    await page.getByRole("button", { name: "Save tokens and keys" }).click();
    await page.getByText("must be between 1m and 24h").waitFor();
    await page.getByLabel("Access-token lifetime").fill("2h");
    await page.getByRole("button", { name: "Save tokens and keys" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  });
  await step("edits a template and sees the preview change", async () => {
    await page.getByRole("link", { name: "Email templates" }).click();
    await page.getByTestId("preview-subject").waitFor();
    await page.getByLabel("Subject").fill("Your {{.AppName}} journey code");
    await page.waitForFunction(
      () => document.querySelector("[data-testid=preview-subject]")?.textContent === "Your Journey App journey code",
    );
    await page.getByRole("button", { name: "Save template" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await checkPage(page, "06-templates");
  });
  await step("sends a test of the saved template to the developer", async () => {
    await page.getByRole("button", { name: "Send test mail" }).click();
    await page.getByRole("status").filter({ hasText: "Sent a test of the saved template to you." }).waitFor();
    await waitFor("the test mail in the outbox", async () => {
      const out = await adminCall("ListOutbox", { appId });
      return (out.messages ?? []).some((m) => m.to === email && m.subject === "[Test] Your Journey App journey code");
    });
  });
  await step("rotates the key, and the old one keeps verifying", async () => {
    await page.getByRole("link", { name: "Keys", exact: true }).click();
    await page.getByRole("button", { name: "Rotate key…" }).click();
    await page.getByRole("button", { name: "Yes, rotate now" }).click();
    await page.getByText("Verifying only").waitFor();
    await page.getByRole("status").filter({ hasText: "signs from now on" }).waitFor();
    const jwks = await (await fetch(`${base}/apps/${appId}/.well-known/jwks.json`, { cache: "no-store" })).json();
    if (jwks.keys?.length !== 2) throw new Error(`JWKS after rotation has ${jwks.keys?.length} keys, want 2`);
    await checkPage(page, "07-keys-rotated");
  });
  await step("turns invitations on, invites someone, and reads the mail in the outbox", async () => {
    await page.getByRole("link", { name: "Invitations" }).click();
    await page.getByRole("heading", { name: "Invite people" }).waitFor();
    await page.getByRole("heading", { name: "No pending invitations" }).waitFor();
    await checkPage(page, "08-invitations-empty");
    await page.getByRole("link", { name: "Settings" }).first().click();
    await page.getByLabel("Users and developers may send invitations").check();
    await page.getByRole("button", { name: "Save sign-up and invitations" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await page.getByRole("link", { name: "Invitations" }).click();
    await page.getByLabel("Email addresses").fill("ann@example.com\nnot-an-address");
    await page.getByRole("button", { name: "Send invitations" }).click();
    await page.getByText('Line 2: "not-an-address" is not an email address.').waitFor();
    await page.getByLabel("Email addresses").fill("ann@example.com");
    await page.getByRole("button", { name: "Send invitations" }).click();
    await page.getByRole("status").filter({ hasText: "Invited 1 person." }).waitFor();
    await page.getByRole("cell", { name: "ann@example.com", exact: true }).waitFor();
    await checkPage(page, "09-invitations");
    await page.getByRole("link", { name: "Outbox" }).click();
    await page.getByRole("article", { name: "email to ann@example.com" }).waitFor();
    await checkPage(page, "10-outbox");
  });
  let userRefresh = "";
  const userEmail = "journey-user@example.com";
  await step("a user signs up through the Auth API, with the required metadata", async () => {
    await page.getByRole("link", { name: "Settings" }).first().click();
    const signup = page.getByLabel("Users may sign up");
    await signup.waitFor();
    if (!(await signup.isChecked())) {
      await signup.check();
      await page.getByRole("button", { name: "Save sign-up and invitations" }).click();
      await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    }
    const auth = (m, body) => call(base, `cosync.auth.v1.AuthService/${m}`, body, undefined, appId);
    await auth("SignUp", { handle: userEmail, password: "user-password-1", metadata: { user_data: { plan: "pro" } } });
    const code = await waitFor("the sign-up mail", async () => {
      const out = await adminCall("ListOutbox", { appId });
      const m = (out.messages ?? []).find((x) => x.to === userEmail && /\b\d{6}\b/.test(x.text ?? ""));
      return m?.text.match(/\b(\d{6})\b/)[1];
    });
    const done = await auth("CompleteSignUp", { handle: userEmail, code });
    // One refresh works before anything happens to the user.
    const refreshed = await auth("RefreshSession", { refreshToken: done.session.refreshToken });
    userRefresh = refreshed.session.refreshToken;
  });
  await step("finds the user by search and suspends them; their next refresh fails", async () => {
    await page.getByRole("link", { name: "Users", exact: true }).click();
    await page.getByRole("heading", { name: "Users", exact: true }).waitFor();
    await page.getByLabel("Search").fill("journey-user");
    await page.getByRole("status").filter({ hasText: "1 user matches" }).waitFor();
    await checkPage(page, "13-users");
    await page.getByRole("link", { name: userEmail }).click();
    await page.getByRole("heading", { name: "Sessions" }).waitFor();
    await checkPage(page, "14-user");
    await page.getByRole("button", { name: "Suspend…" }).click();
    await page.getByRole("button", { name: "Yes, suspend" }).click();
    await page.getByRole("status").filter({ hasText: "Suspended: every session is signed out." }).waitFor();
    await page.getByText("No active sessions").waitFor();
    const res = await fetch(`${base}/cosync.auth.v1.AuthService/RefreshSession`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Cosync-App-Id": appId },
      body: JSON.stringify({ refreshToken: userRefresh }),
    });
    if (res.ok) throw new Error("the suspended user's refresh succeeded");
    await page.getByRole("button", { name: "Reactivate" }).waitFor();
  });
  await step("a sign-up waiting for its code is listed, and its code resent", async () => {
    const waiting = "waiting@example.com";
    await call(base, "cosync.auth.v1.AuthService/SignUp", { handle: waiting, password: "user-password-1", metadata: { user_data: { plan: "free" } } }, undefined, appId);
    await page.getByRole("link", { name: "Pending sign-ups" }).click();
    await page.getByRole("cell", { name: waiting, exact: true }).waitFor();
    await checkPage(page, "15-pending-signups");
    await page.getByRole("button", { name: `Resend code to ${waiting}` }).click();
    await page.getByRole("status").filter({ hasText: `Sent ${waiting} a new code.` }).waitFor();
  });
  await step("analytics shows the sign-up in its charts", async () => {
    await page.getByRole("link", { name: "Analytics" }).click();
    const legend = await page.getByRole("figure", { name: /^Sign-ups/ }).getByText(/Started \(\d+ in all\)/).textContent();
    if (!(Number(legend.match(/\((\d+) in all\)/)[1]) >= 1)) throw new Error(`sign-ups chart: ${legend}, want the journey user's sign-up counted`);
    await checkPage(page, "16-analytics");
  });
  await step("the audit log records the suspension", async () => {
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    await page.locator("tbody tr").first().waitFor();
    await checkPage(page, "17-audit");
    await page.getByLabel("Action").fill("user.suspend");
    // The filter is debounced and the last answer stays until the next: wait for the one row.
    await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 1);
    await page.getByRole("cell", { name: "user.suspend", exact: true }).waitFor();
  });
  await step("integration snippets name the app's JWKS URL", async () => {
    await page.getByRole("link", { name: "Integrations" }).click();
    await page.getByRole("heading", { name: "Endpoints" }).waitFor();
    await page.getByText(`${base}/apps/${appId}/.well-known/jwks.json`).first().waitFor();
    await checkPage(page, "18-integrations");
  });
  await step("creates an API key, sees its secret once, and the key reads the app", async () => {
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByRole("heading", { name: "No API keys" }).waitFor();
    await page.getByRole("textbox", { name: "Name", exact: true }).fill("journey script");
    await page.getByRole("button", { name: "Create key" }).click();
    const secret = (await page.getByTestId("api-key-secret").textContent()).trim();
    await page.getByRole("cell", { name: "journey script", exact: true }).waitFor();
    await checkPage(page, "19-api-keys");
    const got = await call(base, "cosync.admin.v1.AdminService/GetApp", { appId }, secret);
    if (got.app?.id !== appId) throw new Error(`GetApp with the API key = ${JSON.stringify(got)}`);
    await page.getByRole("button", { name: "I have copied it" }).click();
    if (await page.getByText(secret).count()) throw new Error("the secret is still shown");
  });
  await step("adds a member with the viewer role", async () => {
    await page.getByRole("link", { name: "Team" }).click();
    await page.getByText("The last owner stays").waitFor();
    await page.getByLabel("Developer's email").fill(viewer);
    await page.getByLabel("Role", { exact: true }).selectOption({ label: "Viewer" });
    await page.getByRole("button", { name: "Add member" }).click();
    await page.getByRole("status").filter({ hasText: `Added ${viewer} as viewer.` }).waitFor();
    await checkPage(page, "20-team");
  });
  await step("every tab passes axe, whatever the server implements yet", async () => {
    for (const tab of ["Integrations", "Users", "Pending sign-ups", "Analytics", "Audit log", "Team", "API keys"]) {
      await page.getByRole("link", { name: tab, exact: true }).click();
      await page.getByRole("link", { name: tab, exact: true, current: "page" }).waitFor();
      await page.waitForFunction(() => !document.querySelector(".loading"));
      await checkPage(page, `a11y-${tab.toLowerCase().replace(/\W+/g, "-")}`);
    }
  });
  await step("the README's picture: the app's users", async () => {
    await page.getByRole("link", { name: "Users", exact: true }).click();
    await page.getByRole("link", { name: userEmail }).waitFor();
    await page.screenshot({ path: join(results, "readme.png") });
  });
  await step("dark mode follows the system and stays readable", async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    await page.getByRole("link", { name: "Keys", exact: true }).click();
    await page.getByRole("heading", { name: "What your backend trusts" }).waitFor();
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    if (bg !== "rgb(18, 20, 23)") throw new Error(`dark background = ${bg}`);
    await checkPage(page, "11-keys-dark");
    await page.emulateMedia({ colorScheme: "light" });
    // The toggle overrides the system's choice.
    await page.getByLabel("Color theme").selectOption({ label: "Dark" });
    const toggled = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    if (toggled !== "rgb(18, 20, 23)") throw new Error(`dark by the toggle = ${toggled}`);
    await page.getByLabel("Color theme").selectOption({ label: "System theme" });
  });
  await step("signs out", async () => {
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.getByRole("heading", { name: "Sign in to CoSync Auth" }).waitFor();
    await page.getByRole("status").filter({ hasText: "You are signed out." }).waitFor();
  });
  await step("the viewer signs in and cannot change settings", async () => {
    await page.getByLabel("Email").fill(viewer);
    await page.getByLabel("Password").fill("journey-password-1");
    await page.getByRole("button", { name: "Sign in" }).click();
    // The page stays where the last developer left it; start from the list.
    await page.getByRole("link", { name: "CoSync Auth" }).click();
    await page.getByRole("link", { name: "Journey App" }).click();
    await page.getByText("You are a viewer of this application").waitFor();
    if (await page.getByRole("button", { name: /^Save / }).count()) throw new Error("a viewer sees a Save button");
    await checkPage(page, "21-settings-viewer");
    // The server refuses too, whatever the browser shows.
    const login = await call(base, "cosync.auth.v1.AuthService/Login", { handle: viewer, password: "journey-password-1" });
    const res = await fetch(`${base}/cosync.admin.v1.AdminService/UpdateApp`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Cosync-App-Id": "console", Authorization: `Bearer ${login.session.accessToken}` },
      body: JSON.stringify({ appId, name: "Renamed by a viewer", updateMask: "name" }),
    });
    if (res.status !== 403) throw new Error(`UpdateApp as a viewer: ${res.status} ${await res.text()}`);
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.getByRole("heading", { name: "Sign in to CoSync Auth" }).waitFor();
  });
  await step("forgets the password, resets it with the mailed code, and signs in", async () => {
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.getByLabel("Email").fill(email);
    await page.getByRole("button", { name: "Send the code" }).click();
    await page.getByRole("heading", { name: "Choose a new password" }).waitFor();
    await checkPage(page, "12-reset");
    // The code is in the console app's dev outbox, which this operator reads over the API.
    const code = await waitFor("the reset mail", async () => {
      const messages = await consoleOutbox();
      const m = messages.find((x) => /reset/i.test(x.subject ?? "") && /\b\d{6}\b/.test(x.text ?? ""));
      return m?.text.match(/\b(\d{6})\b/)[1];
    });
    await page.getByLabel("Code from the mail").fill(code);
    await page.getByLabel("New password").fill("journey-password-2");
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByRole("heading", { name: "Password changed" }).waitFor();
    // The reset ended every session, the journey's own API one too.
    op.password = "journey-password-2";
    await page.getByRole("link", { name: "Sign in with the new password" }).click();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("journey-password-2");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Applications" }).waitFor();
  });
  const consoleApp = await call(base, "cosync.auth.v1.AuthService/GetApplication", {});
  if (!consoleApp.application?.signupEnabled) {
    throw new Error("the console app's signup is off although the journey's server runs with COSYNC_DEVELOPER_SIGNUP=true");
  } else {
    await step("a developer signs up to the console with the mailed code", async () => {
      await page.getByRole("button", { name: "Sign out", exact: true }).click();
      await page.getByRole("link", { name: "Create a developer account" }).click();
      await page.getByRole("heading", { name: "Create a developer account" }).waitFor();
      await checkPage(page, "22-developer-signup");
      const newDev = "new-dev@example.com";
      await page.getByLabel("Email").fill(newDev);
      await page.getByLabel("Password").fill("new-dev-password-1");
      await page.getByRole("button", { name: "Sign up" }).click();
      await page.getByRole("heading", { name: "Check your mail" }).waitFor();
      const code = await waitFor("the console sign-up mail", async () => {
        const messages = await consoleOutbox();
        const m = messages.find((x) => x.to === newDev && /\b\d{6}\b/.test(x.text ?? ""));
        return m?.text.match(/\b(\d{6})\b/)[1];
      });
      await page.getByLabel("Code from the mail").fill(code);
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByRole("heading", { name: "No applications yet" }).waitFor();
      if (await page.getByRole("link", { name: "Operator" }).count()) throw new Error("a signed-up developer sees the operator page");
    });
  }
}

async function call(base, method, body, token, app = "console") {
  const res = await fetch(`${base}/${method}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Cosync-App-Id": app, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** adminCall calls an AdminService method as the operator (set up in main). */
let adminCall = async () => {
  throw new Error("adminCall before main set it");
};

async function consoleOutbox() {
  const out = await adminCall("ListOutbox", { appId: "console" });
  return out.messages ?? [];
}

async function stopAll() {
  for (const fn of cleanups) {
    try {
      await fn();
    } catch {
      // best effort
    }
  }
  for (const c of children) {
    c.stopping = true;
    c.kill("SIGTERM");
  }
}

main()
  .catch((err) => {
    if (!failed) {
      failed++;
      console.log(`FAIL setup\n     ${err?.stack ?? err}`);
    }
  })
  .finally(async () => {
    await stopAll();
    console.log(`${passed} passed, ${failed} failed`);
    console.log(`screenshots in ${results}`);
    process.exit(failed ? 1 : 0);
  });
