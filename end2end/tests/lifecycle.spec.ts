import { Page } from '@playwright/test';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test, expect, hydrated, signIn } from './helpers';

// The customer lifecycle without the demo seed: an operator onboards an organisation, its manager
// builds a team and invites people, a person is offboarded, a password is reset.
//
// Every test makes its own organisation and people, named with a fresh stamp, so the tests do not
// depend on each other, leave the demo data alone, and can run again against the same server.

const PASSWORD = 'correct horse battery staple';
// No spaces: it is looked for, as is, in the body of the request that sets it (form or JSON).
const NEW_PASSWORD = 'staple-battery-horse-correct';

// ---------------------------------------------------------------------------------------------
// The outbox. Without SMTP the server's mail worker writes each message as one RFC 5322 file,
// `<data dir>/outbox/<time>-<id>.eml`; the data dir is `target/e2e-data/<build>` under the repo
// root (see playwright.config.ts), and the build is the Playwright project's name.
// ---------------------------------------------------------------------------------------------

type LinkKind = 'invite' | 'reset-password';

interface MailQuery {
  /** Only messages whose Subject contains this (case-insensitive). */
  subjectContains?: string;
  /** Links already seen: a message carrying one of these is not the one wanted (a resend). */
  except?: string[];
}

const OUTBOX_TIMEOUT_MS = 15_000;
const OUTBOX_POLL_MS = 250;

function outboxDir(build: string): string {
  // This file is end2end/tests/lifecycle.spec.ts; the repo root is two levels up.
  return path.resolve(__dirname, '..', '..', 'target', 'e2e-data', build, 'outbox');
}

/**
 * The link of the newest message to `address` in the outbox whose body has a link of the asked
 * kind (`/invite/…` or `/reset-password/…`). Polls: the worker writes the file a moment after the
 * request that queued it has answered.
 */
async function mailTo(build: string, address: string, kind: LinkKind, query: MailQuery = {}): Promise<string> {
  const dir = outboxDir(build);
  const deadline = Date.now() + OUTBOX_TIMEOUT_MS;
  for (;;) {
    const mails = await readOutbox(dir);
    const wanted = mails
      .filter((m) => includesCi(m.to, address))
      .filter((m) => query.subjectContains === undefined || includesCi(m.subject, query.subjectContains))
      .map((m) => ({ ...m, link: firstLink(m.text, kind) }))
      .filter((m) => m.link !== undefined && !(query.except ?? []).includes(m.link))
      .sort((a, b) => b.mtimeMs - a.mtimeMs || b.name.localeCompare(a.name));
    if (wanted.length > 0) return wanted[0].link!;
    if (Date.now() > deadline) {
      const seen = mails.map((m) => `  ${m.name}  To: ${m.to}  Subject: ${m.subject}`).join('\n');
      throw new Error(
        `no ${kind} mail to ${address} in ${dir} within ${OUTBOX_TIMEOUT_MS / 1000} s; the outbox holds:\n${seen || '  (nothing)'}`,
      );
    }
    // The only sleep in this file: nothing in the browser tells when the worker has written.
    await new Promise((resolve) => setTimeout(resolve, OUTBOX_POLL_MS));
  }
}

interface Mail {
  name: string;
  mtimeMs: number;
  to: string;
  subject: string;
  /** The decoded text of every part, one after the other. */
  text: string;
}

async function readOutbox(dir: string): Promise<Mail[]> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((n) => n.endsWith('.eml'));
  } catch (e) {
    // No outbox yet: nothing has been written.
    if ((e as { code?: string }).code === 'ENOENT') return [];
    throw e;
  }
  const mails: Mail[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    let raw: string;
    let mtimeMs: number;
    try {
      [raw, mtimeMs] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file).then((s) => s.mtimeMs)]);
    } catch {
      continue; // Vanished between readdir and read; the next poll sees the outbox as it is.
    }
    const { headers } = splitMessage(raw);
    mails.push({
      name,
      mtimeMs,
      to: headers.get('to') ?? '',
      subject: decodeEncodedWords(headers.get('subject') ?? ''),
      text: decodedText(raw),
    });
  }
  return mails;
}

/** Splits headers (unfolded, names lower-cased) from the body at the first empty line. */
function splitMessage(raw: string): { headers: Map<string, string>; body: string } {
  const blank = /\r?\n\r?\n/.exec(raw);
  // A MIME part that starts with an empty line has no headers.
  const startsBlank = /^\r?\n/.exec(raw);
  const head = startsBlank ? '' : blank ? raw.slice(0, blank.index) : raw;
  const body = startsBlank ? raw.slice(startsBlank[0].length) : blank ? raw.slice(blank.index + blank[0].length) : '';
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** The body as text: multipart walked, each part's transfer encoding undone. */
function decodedText(raw: string): string {
  const { headers, body } = splitMessage(raw);
  const type = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    return body
      .split(`--${boundary}`)
      .slice(1) // the preamble
      .filter((part) => !part.startsWith('--')) // the epilogue after the closing delimiter
      .map((part) => decodedText(part.replace(/^[ \t]*\r?\n/, '')))
      .join('\n');
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '').toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  // 7bit/8bit: still undo the soft line breaks and `=3D`, in case a long link was wrapped anyway.
  return body.replace(/=\r?\n/g, '').replace(/=3D/gi, '=');
}

function decodeQuotedPrintable(text: string): string {
  // Soft line breaks first (a link may be wrapped mid-token), then the `=XX` bytes as UTF-8.
  const joined = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words (`=?utf-8?q?…?=`, `=?utf-8?b?…?=`), as a non-ASCII Subject comes. */
function decodeEncodedWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?') // whitespace between adjacent encoded words is not text
    .replace(/=\?([^?]+)\?([bq])\?([^?]*)\?=/gi, (_, _charset: string, enc: string, data: string) =>
      enc.toLowerCase() === 'b'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
}

function firstLink(text: string, kind: LinkKind): string | undefined {
  const links = text.match(/https?:\/\/[^\s<>"]+/g) ?? [];
  // Prose may end a sentence right after the link; a token never ends in punctuation.
  return links.map((l) => l.replace(/[.,;:!?)\]'>]+$/, '')).find((l) => l.includes(`/${kind}/`));
}

function includesCi(haystack: string, needle: string): boolean {
  return haystack.toLowerCase().includes(needle.toLowerCase());
}

/**
 * Opens a link from a mail. Its host is the server's listening address, which is the baseURL;
 * going to its path and query relative to the baseURL keeps the browser on the server under
 * test even if the two were spelled differently.
 */
async function openMailLink(page: Page, link: string) {
  const url = new URL(link);
  await page.goto(url.pathname + url.search);
  await hydrated(page);
}

// ---------------------------------------------------------------------------------------------
// Steps of the story.
// ---------------------------------------------------------------------------------------------

/** As an operator admin on /admin/orgs: creates the organisation and invites its manager. */
async function createOrganisation(page: Page, org: string, managerName: string, managerEmail: string) {
  await page.goto('/admin/orgs');
  await hydrated(page);
  await page.getByRole('button', { name: 'New organisation' }).click();
  await page.getByRole('textbox', { name: 'Organisation name', exact: true }).fill(org);
  await page.getByRole('textbox', { name: 'Manager name', exact: true }).fill(managerName);
  await page.getByRole('textbox', { name: 'Manager email', exact: true }).fill(managerEmail);
  await page.getByRole('button', { name: 'Create organisation' }).click();
  const status = page.getByRole('status').filter({ hasText: 'invitation' });
  await expect(status).toContainText(managerEmail);
  const row = page.getByRole('row').filter({ hasText: org });
  await expect(row).toBeVisible();
  await expect(row.getByRole('button', { name: 'Suspend', exact: true })).toBeVisible();
}

/** On an invitation link: sets the password, and is signed in on the dashboard. */
async function acceptInvitation(page: Page, link: string, password = PASSWORD) {
  await openMailLink(page, link);
  await page.getByLabel('New password', { exact: true }).fill(password);
  await page.getByLabel('Confirm password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Accept invitation' }).click();
  await expect(page).toHaveURL((url) => url.pathname === '/');
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await hydrated(page);
}

/**
 * Operator admin creates a fresh organisation; its manager accepts the invitation in a browser
 * context of their own. Returns the manager's signed-in page.
 */
async function onboard(
  admin: Page,
  newSession: () => Promise<Page>,
  build: string,
  org: string,
  managerName: string,
  managerEmail: string,
): Promise<Page> {
  await signIn(admin, 'admin@fleetgate.test');
  await expect(admin).toHaveURL(/\/admin\/users/);
  await createOrganisation(admin, org, managerName, managerEmail);
  const link = await mailTo(build, managerEmail, 'invite');
  const manager = await newSession();
  await acceptInvitation(manager, link);
  return manager;
}

async function openTeams(page: Page) {
  await page.getByRole('link', { name: 'Teams', exact: true }).click();
  await expect(page).toHaveURL(/\/teams$/);
  await hydrated(page);
}

async function createTeam(page: Page, name: string, parent: string) {
  await page.getByRole('button', { name: 'New team' }).click();
  await page.getByRole('textbox', { name: 'Team name', exact: true }).fill(name);
  await page.getByRole('combobox', { name: 'Parent team', exact: true }).selectOption({ label: parent });
  await page.getByRole('button', { name: 'Create team' }).click();
  // `first()`: the page may name a team more than once (say, in a tree and in a table).
  await expect(page.getByRole('link', { name, exact: true }).first()).toBeVisible();
}

async function openTeam(page: Page, name: string) {
  await page.getByRole('link', { name, exact: true }).first().click();
  await expect(page).toHaveURL(/\/teams\/[^/?#]+$/);
  await hydrated(page);
}

/** On a team page: invites a person; they then show under "Pending invitations". */
async function inviteMember(page: Page, name: string, email: string, role: 'Fleet Manager' | 'Technician') {
  await page.getByRole('button', { name: 'Invite member' }).click();
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill(name);
  await page.getByRole('textbox', { name: 'Email', exact: true }).fill(email);
  await page.getByRole('combobox', { name: 'Role', exact: true }).selectOption({ label: role });
  await page.getByRole('button', { name: 'Send invitation' }).click();
  await expect(page.getByRole('heading', { name: 'Pending invitations' })).toBeVisible();
  await expect(pendingInvitation(page, email)).toBeVisible();
}

/** The entry (list item or table row) of a pending invitation on a team page. */
function pendingInvitation(page: Page, email: string) {
  return page
    .locator('li, tr')
    .filter({ hasText: email })
    .filter({ has: page.getByRole('button', { name: 'Resend', exact: true }) })
    .last(); // in nested lists the item itself comes after the items around it
}

/** Asserts that a page says an invitation link is no longer valid, and says it plainly. */
async function expectDeadInvitation(page: Page) {
  await expect(page.getByRole('alert')).toContainText('no longer valid');
  // A clear message, not an internal error: no Rust panic, no error dump or stack trace.
  const text = await page.locator('body').innerText();
  expect(text).not.toContain('panicked');
  expect(text).not.toMatch(/\bError:|stack backtrace|at \S+ \(\S+:\d+:\d+\)|\.rs:\d+/);
}

// ---------------------------------------------------------------------------------------------

test('a customer is onboarded, builds a team, invites a technician and offboards him', async ({
  page,
  newSession,
}, testInfo) => {
  // Two mails, three people, several password hashes and a wait for a session check.
  test.setTimeout(120_000);
  const build = testInfo.project.name;
  const stamp = Date.now();
  const org = `Initech ${stamp}`;
  const peterEmail = `peter+${stamp}@initech.test`;
  const miltonEmail = `milton+${stamp}@initech.test`;

  const peter = await onboard(page, newSession, build, org, 'Peter Gibbons', peterEmail);

  // The root team is named like the organisation; the new sub-team goes under it.
  await openTeams(peter);
  await createTeam(peter, 'Night Shift', org);
  await openTeam(peter, 'Night Shift');
  await inviteMember(peter, 'Milton Waddams', miltonEmail, 'Technician');

  const milton = await newSession();
  await acceptInvitation(milton, await mailTo(build, miltonEmail, 'invite'));

  // Peter offboards Milton.
  await peter.getByRole('link', { name: 'People', exact: true }).click();
  await expect(peter).toHaveURL(/\/people$/);
  await hydrated(peter);
  const row = peter.getByRole('row').filter({ hasText: miltonEmail });
  await expect(row).toContainText('Milton Waddams');
  await expect(row).toContainText('Technician');
  await expect(row).toContainText('Night Shift');
  await expect(row).toContainText('Active');
  await row.getByRole('button', { name: 'Deactivate', exact: true }).click();
  await row.getByRole('button', { name: 'Confirm deactivation', exact: true }).click();
  await expect(row).toContainText('Deactivated');
  await expect(row.getByRole('button', { name: 'Reactivate', exact: true })).toBeVisible();

  // Milton's open page notices that its session has ended (the app checks periodically).
  await expect(milton).toHaveURL(/\/login/, { timeout: 20_000 });
  // And he cannot sign in again.
  await signIn(milton, miltonEmail, PASSWORD);
  await expect(milton.getByRole('alert')).toBeVisible();
  await expect(milton).toHaveURL(/\/login/);
  await milton.goto('/people');
  await expect(milton).toHaveURL(/\/login/);
});

test('an invitation link used once is "no longer valid", said plainly', async ({ page, newSession }, testInfo) => {
  test.setTimeout(90_000);
  const build = testInfo.project.name;
  const stamp = Date.now();
  const email = `bill+${stamp}@initrode.test`;

  await onboard(page, newSession, build, `Initrode ${stamp}`, 'Bill Lumbergh', email);
  const link = await mailTo(build, email, 'invite');

  // Someone clicks the link in the mail again, later, in another browser.
  const again = await newSession();
  await openMailLink(again, link);
  await expectDeadInvitation(again);
});

test('a forgotten password is reset from the mailed link; the old one stops working', async ({
  page,
  newSession,
}, testInfo) => {
  test.setTimeout(120_000);
  const build = testInfo.project.name;
  const stamp = Date.now();
  const email = `samir+${stamp}@penetrode.test`;
  const unknown = `nobody+${stamp}@penetrode.test`;

  const samir = await onboard(page, newSession, build, `Penetrode ${stamp}`, 'Samir Nagheenanajar', email);

  /** Asks for a reset link for `address`; returns the answer with the address blanked out. */
  const askForReset = async (address: string): Promise<string> => {
    const p = await newSession();
    await p.goto('/login');
    await hydrated(p);
    await p.getByRole('link', { name: 'Forgot password?' }).click();
    await expect(p).toHaveURL(/\/forgot-password$/);
    await hydrated(p);
    await p.getByRole('textbox', { name: 'Email', exact: true }).fill(address);
    await p.getByRole('button', { name: 'Send reset link' }).click();
    // A live region may be on the page, empty, before the answer arrives.
    const status = p.getByRole('status').filter({ hasText: /\S/ });
    await expect(status).toBeVisible();
    // Should the answer repeat the address, that alone may differ.
    return (await status.innerText()).split(address).join('<address>').trim();
  };

  // Unknown first: once the known address's mail is in, nothing went to the unknown one.
  const answerUnknown = await askForReset(unknown);
  const answerKnown = await askForReset(email);
  expect(answerKnown).toBe(answerUnknown);

  const link = await mailTo(build, email, 'reset-password');
  expect((await readOutbox(outboxDir(build))).filter((m) => includesCi(m.to, unknown))).toEqual([]);

  const reset = await newSession();
  await openMailLink(reset, link);
  await reset.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await reset.getByLabel('Confirm password', { exact: true }).fill(NEW_PASSWORD);
  // The page's answer after setting is not part of the contract; the answer to the POST that
  // carries the new password is what says it has been changed before the sign-ins below try it.
  // (Matched on the password itself: other POSTs, such as a session check, may come first.)
  const answered = reset.waitForResponse(
    (r) => r.request().method() === 'POST' && (r.request().postData() ?? '').includes(NEW_PASSWORD),
  );
  await reset.getByRole('button', { name: 'Set password' }).click();
  expect((await answered).status()).toBeLessThan(400);

  // Setting the password ended Samir's other sessions: his open page goes to /login.
  await expect(samir).toHaveURL(/\/login/, { timeout: 20_000 });

  const oldPassword = await newSession();
  await signIn(oldPassword, email, PASSWORD);
  await expect(oldPassword.getByRole('alert')).toBeVisible();
  await expect(oldPassword).toHaveURL(/\/login/);

  const newPassword = await newSession();
  await signIn(newPassword, email, NEW_PASSWORD);
  await expect(newPassword).not.toHaveURL(/\/login/);
  await expect(newPassword.getByRole('button', { name: 'Sign out' })).toBeVisible();
});

test('resending an invitation kills the old link; the new one works', async ({ page, newSession }, testInfo) => {
  test.setTimeout(120_000);
  const build = testInfo.project.name;
  const stamp = Date.now();
  const org = `Chotchkies ${stamp}`;
  const email = `joanna+${stamp}@chotchkies.test`;

  const stan = await onboard(page, newSession, build, org, 'Stan Manager', `stan+${stamp}@chotchkies.test`);
  await openTeams(stan);
  await createTeam(stan, 'Day Shift', org);
  await openTeam(stan, 'Day Shift');
  await inviteMember(stan, 'Joanna Waitress', email, 'Technician');
  const first = await mailTo(build, email, 'invite');

  await pendingInvitation(stan, email).getByRole('button', { name: 'Resend', exact: true }).click();
  // The resent mail is the one whose link differs from the first.
  const second = await mailTo(build, email, 'invite', { except: [first] });
  expect(second).not.toBe(first);

  const old = await newSession();
  await openMailLink(old, first);
  await expectDeadInvitation(old);

  const joanna = await newSession();
  await acceptInvitation(joanna, second);

  // Accepted: no longer pending.
  await stan.reload();
  await hydrated(stan);
  await expect(pendingInvitation(stan, email)).toHaveCount(0);
});
