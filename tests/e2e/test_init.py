#!/usr/bin/env python3
"""End-to-end tests of `invsync init` (issue 17): a person at a terminal, driven through a
pseudo-terminal (Python's pty module), and the flags for scripts, against the fake Shopify.

    python3 tests/e2e/test_init.py --bin build/invsync [--seed N] [--only NAME[,NAME]]

The agent reaches the fake through --url NAME=URL and --ca-file (what a proxy would need too);
every other answer is typed at init's prompts.  Prints PASS/FAIL lines; exits 1 when a test
failed.
"""
import os
import pty
import select
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Skip, TestFailure, check, mkdtemp, product, run_suite, store, variant  # noqa: E402



TOKENS = {'source': 'shpat_source', 'destination': 'shpat_destination'}


class Tty:
    """argv run on a new pseudo-terminal: expect() waits for output, send() types a line."""

    def __init__(self, argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        self.out = b''
        self.pos = 0            # expect() matched up to here
        self.status = None

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 4096)
        except OSError:         # EIO: the child closed the terminal
            data = b''
        if not data:
            raise EOFError
        self.out += data
        return True

    def text(self):
        return self.out.decode('utf-8', 'replace')

    def expect(self, what, timeout=30):
        """Waits until what (text) appears after the last match."""
        want = what.encode()
        deadline = time.monotonic() + timeout
        while want not in self.out[self.pos:]:
            left = deadline - time.monotonic()
            try:
                if left <= 0 or not self._read(left):
                    raise TestFailure('no %r within %ds; terminal so far:\n%s' % (
                        what, timeout, self.text()[-1500:]))
            except EOFError:
                raise TestFailure('init ended before %r; terminal:\n%s' % (what, self.text()[-1500:]))
        self.pos = self.out.index(want, self.pos) + len(want)

    def send(self, line):
        os.write(self.fd, line.encode() + b'\n')

    def ctrl(self, ch):
        os.write(self.fd, bytes([ord(ch) & 0x1f]))

    def wait(self, timeout=60):
        """Reads to the end; returns the exit status (or -SIGNAL)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if not self._read(max(0.1, deadline - time.monotonic())) and \
                        time.monotonic() > deadline:
                    os.kill(self.pid, signal.SIGKILL)
                    raise TestFailure('init did not end; terminal:\n%s' % self.text()[-1500:])
            except EOFError:
                break
        _, st = os.waitpid(self.pid, 0)
        os.close(self.fd)
        self.status = os.waitstatus_to_exitcode(st)
        return self.status


class Ctx(harness.Ctx):
    def __init__(self, fake, binary, seed, long=False):
        super().__init__(fake, os.path.abspath(binary), seed, long)
        self.dir = mkdtemp('e2e-init-')
        self.conf = os.path.join(self.dir, 'invsync.conf')
        self.state = os.path.join(self.dir, 'state')

    def fake_flags(self, names=('source', 'destination')):
        """The flags that point init at the fake."""
        a = ['--ca-file', self.fake.ca, '--state-dir', self.state]
        for n in names:
            a += ['--url', '%s=%s' % (n, self.fake.url(n))]
        return a

    def tty(self, *extra, conf=None):
        return Tty([self.bin, '-c', conf or self.conf, 'init'] + list(extra))

    def run(self, *args, conf=None, stdin=None):
        p = subprocess.run([self.bin, '-c', conf or self.conf] + list(args), capture_output=True,
                           text=True, timeout=120, stdin=stdin or subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr

    def secret(self, name, text, mode=0o600):
        path = os.path.join(mkdtemp('e2e-init-src-'), name)
        with open(path, 'w') as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def leftovers(self):
        return [f for f in os.listdir(self.dir) if 'invsync-init' in f]


def catalog(locations_src, locations_dst, loc_src=None, loc_dst=None, **dst):
    """Two stores sharing three products, at the first location of each."""
    ls = loc_src or locations_src[0]
    ld = loc_dst or locations_dst[0]
    src = [product('item-%d' % k, [variant('IT%d' % k, 10 + k, loc=ls)]) for k in range(3)]
    dstp = [product('item-%d' % k, [variant('IT%d' % k, 20 + k, loc=ld)]) for k in range(3)]
    return [store('source', src, locations=[{'name': n} for n in locations_src]),
            store('destination', dstp, locations=[{'name': n} for n in locations_dst], **dst)]


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def read(path):
    with open(path) as f:
        return f.read()


def answer_store(t, shop, name, token, default_name=None):
    """Types one store's answers: domain, name, a token (option 1)."""
    t.expect('shop domain (NAME.myshopify.com): ')
    t.send(shop)
    t.expect('name for it in invsync [%s]: ' % (default_name or shop.split('.')[0]))
    t.send(name)
    t.expect('which [1]: ')
    t.send('')
    t.expect('Admin API access token (not shown): ')
    t.send(token)
    t.expect('ok: ')


def check_written(ctx, want_links):
    """The config and token files init wrote: modes, contents, check passes."""
    check(mode(ctx.conf) == 0o600, 'config mode %o, want 600' % mode(ctx.conf))
    for n, tok in TOKENS.items():
        p = os.path.join(ctx.dir, '%s.token' % n)
        check(os.path.exists(p), 'no %s' % p)
        check(mode(p) == 0o600, '%s mode %o, want 600' % (p, mode(p)))
        check(read(p) == tok + '\n', '%s holds the token and a newline' % p)
    text = read(ctx.conf)
    for line in want_links:
        check(line in text.splitlines(), 'no [locations] line %r in:\n%s' % (line, text))
    check('token_file = source.token' in text, 'token_file relative to the config:\n' + text)
    check(ctx.leftovers() == [], 'temporary files left: %r' % ctx.leftovers())
    rc, out, err = ctx.run('check')
    check(rc == 0, 'check of the written config exited %d: %s%s' % (rc, out[-600:], err[-600:]))


# ----------------------------------------------------------------- tests

def test_interactive_two_tokens(ctx):
    """From nothing to a passing check with init's prompts alone; tokens never echoed."""
    ctx.load(catalog(['Main Warehouse'], ['Main Warehouse']))
    t = ctx.tty(*ctx.fake_flags())
    t.expect('first-time setup')
    answer_store(t, 'urbanwear-eu', 'source', TOKENS['source'])        # bare NAME completed
    answer_store(t, 'https://URBANWEAR-US.myshopify.com/admin', 'destination',
                 TOKENS['destination'], default_name='urbanwear-us')
    t.expect('Add another store? [y/N]: ')
    t.send('')
    rc = t.wait()
    out = t.text()
    check(rc == 0, 'init exited %d:\n%s' % (rc, out[-2000:]))
    check('ready: syncing can start' in out, 'init ended with a passing check:\n' + out[-1200:])
    for tok in TOKENS.values():
        check(tok not in out, 'the token %s was echoed to the terminal' % tok)
    # the echo of ordinary answers is what proves the check above can see typed text
    check('urbanwear-eu' in out and 'destination' in out, 'answers are echoed')
    check_written(ctx, ['Main Warehouse = Main Warehouse'])
    text = read(ctx.conf)
    check('shop = urbanwear-us.myshopify.com' in text, 'the typed URL became the domain')
    check('state_dir = %s' % ctx.state in text, 'state_dir from --state-dir')


def test_mismatched_locations_asked(ctx):
    """Equal names are linked by themselves; the primary's other location is asked for."""
    ctx.load(catalog(['Main Warehouse', 'East Depot'], ['Ost Lager', 'Main Warehouse', 'Returns']))
    t = ctx.tty(*ctx.fake_flags())
    answer_store(t, 'urbanwear-eu.myshopify.com', 'source', TOKENS['source'])
    answer_store(t, 'urbanwear-us.myshopify.com', 'destination', TOKENS['destination'],
                 default_name='urbanwear-us')
    t.expect('Add another store? [y/N]: ')
    t.send('n')
    t.expect('destination has no location named "East Depot"; link it to:')
    t.expect('1) Ost Lager')
    t.expect('2) Returns')
    t.expect('0) do not sync "East Depot"')
    t.expect('link to [1]: ')
    t.send('7')                         # out of range: asked again
    t.expect('give a number from 0 to 2')
    t.expect('link to [1]: ')
    t.send('1')
    rc = t.wait()
    check(rc == 0, 'init exited %d:\n%s' % (rc, t.text()[-2000:]))
    check(t.text().count('has no location named') == 1, 'only the unmatched location is asked')
    check_written(ctx, ['Main Warehouse = Main Warehouse', 'East Depot = Ost Lager',
                        '# not linked: destination: Returns'])


def test_interactive_client_credentials(ctx):
    """Option 2: an app's client id and secret (the secret not echoed), in destination.secret."""
    ctx.load(catalog(['Main Warehouse'], ['Main Warehouse'], client_id='cid-dest',
                     client_secret='sekrit-dest-42'))
    t = ctx.tty(*ctx.fake_flags())
    answer_store(t, 'urbanwear-eu', 'source', TOKENS['source'])
    t.expect('shop domain (NAME.myshopify.com): ')
    t.send('urbanwear-us')
    t.expect('name for it in invsync [urbanwear-us]: ')
    t.send('destination')
    t.expect('which [1]: ')
    t.send('2')
    t.expect('client id: ')
    t.send('cid dest')
    t.expect('a client id is one word of printable ASCII')
    t.expect('client id: ')
    t.send('cid-dest')
    t.expect('client secret (not shown): ')
    t.send('sekrit-dest-42')
    t.expect('ok: 1 active location(s)')
    t.expect('Add another store? [y/N]: ')
    t.send('n')
    rc = t.wait()
    check(rc == 0, 'init exited %d:\n%s' % (rc, t.text()[-2000:]))
    check('sekrit-dest-42' not in t.text(), 'the client secret was echoed')
    text = read(ctx.conf)
    check('client_id = cid-dest' in text and 'client_secret_file = destination.secret' in text,
          'client credentials in the config:\n' + text)
    p = os.path.join(ctx.dir, 'destination.secret')
    check(mode(p) == 0o600 and read(p) == 'sekrit-dest-42\n', 'destination.secret: 600, the secret')
    rc, out, err = ctx.run('check')
    check(rc == 0, 'check: %d %s' % (rc, out[-600:]))


def test_skip_location(ctx):
    """0 leaves a location unlinked; a store with several is still linked by name."""
    ctx.load(catalog(['Main Warehouse', 'Popup'], ['Main Warehouse', 'Outlet']))
    t = ctx.tty(*ctx.fake_flags())
    answer_store(t, 'urbanwear-eu', 'source', TOKENS['source'])
    answer_store(t, 'urbanwear-us', 'destination', TOKENS['destination'])
    t.expect('Add another store? [y/N]: ')
    t.send('n')
    t.expect('link to [1]: ')
    t.send('0')
    rc = t.wait()
    check(rc == 0, 'init exited %d:\n%s' % (rc, t.text()[-2000:]))
    check_written(ctx, ['Main Warehouse = Main Warehouse', '# not linked: source: Popup',
                        '# not linked: destination: Outlet'])


def test_bad_answers_asked_again(ctx):
    """A bad domain, an empty token and a wrong token each get a clear message and a retry."""
    ctx.load(catalog(['Main Warehouse'], ['Main Warehouse']))
    t = ctx.tty(*ctx.fake_flags())
    t.expect('shop domain (NAME.myshopify.com): ')
    t.send('not a shop!')
    t.expect("'not a shop!' is not a shop domain: give NAME.myshopify.com")
    t.send('evil.example.com')
    t.expect("'evil.example.com' is not a shop domain")
    t.send('-bad-.myshopify.com')
    t.expect("is not a shop domain")
    t.send('urbanwear-eu')
    t.expect('name for it in invsync [urbanwear-eu]: ')
    t.send('no/slash')
    t.expect("a name is 1 to 63 letters, digits, '_' or '-'")
    t.send('source')
    t.expect('which [1]: ')
    t.send('3')
    t.expect('give a number from 0 to 2')
    t.send('1')
    t.expect('Admin API access token (not shown): ')
    t.send('')
    t.expect('refused: it is empty')
    t.expect('Admin API access token (not shown): ')
    t.send('shpat_ with blank')
    t.expect('refused: it holds a blank')
    t.expect('Admin API access token (not shown): ')
    t.send('shpat_wrong')
    t.expect('cannot use urbanwear-eu.myshopify.com: cannot read its locations: access refused: HTTP 401')
    t.expect('enter its credentials again? [Y/n]: ')
    t.send('')
    t.expect('which [1]: ')
    t.send('')
    t.expect('Admin API access token (not shown): ')
    t.send(TOKENS['source'])
    t.expect('ok: 1 active location(s)')
    t.expect('shop domain (NAME.myshopify.com): ')
    t.send('urbanwear-eu')                      # the same shop twice
    t.expect('urbanwear-eu.myshopify.com is store source already')
    t.expect('shop domain (NAME.myshopify.com): ')
    t.send('urbanwear-us')
    t.expect('name for it in invsync [urbanwear-us]: ')
    t.send('source')                            # the same name twice
    t.expect('store source exists already')
    t.send('destination')
    t.expect('which [1]: ')
    t.send('')
    t.expect('Admin API access token (not shown): ')
    t.send(TOKENS['destination'])
    t.expect('Add another store? [y/N]: ')
    t.send('maybe')
    t.expect('answer y or n')
    t.send('n')
    rc = t.wait()
    check(rc == 0, 'init exited %d:\n%s' % (rc, t.text()[-2000:]))
    for tok in ('shpat_wrong', 'shpat_ with blank', TOKENS['source'], TOKENS['destination']):
        check(tok not in t.text(), 'the token %r was echoed' % tok)
    check_written(ctx, ['Main Warehouse = Main Warehouse'])


def test_end_of_input_writes_nothing(ctx):
    """Ctrl-D at a prompt ends init with exit 1; the staged secret of store 1 is removed."""
    ctx.load(catalog(['Main Warehouse'], ['Main Warehouse']))
    t = ctx.tty(*ctx.fake_flags())
    answer_store(t, 'urbanwear-eu', 'source', TOKENS['source'])
    t.expect('shop domain (NAME.myshopify.com): ')
    t.ctrl('d')
    rc = t.wait()
    check(rc == 1, 'init exited %d at the end of input, want 1' % rc)
    check('input ended; no configuration written' in t.text(), 'says why:\n' + t.text()[-600:])
    check(os.listdir(ctx.dir) == [], 'nothing left in the directory: %r' % os.listdir(ctx.dir))


def test_interrupt_restores_echo(ctx):
    """Ctrl-C at the hidden prompt: echo back on, staged secret removed, no config."""
    ctx.load(catalog(['Main Warehouse'], ['Main Warehouse']))
    argv = [ctx.bin, '-c', ctx.conf, 'init'] + ctx.fake_flags()
    quoted = ' '.join("'%s'" % a for a in argv)
    # sh ignores SIGINT (init sets its own handler), then shows the terminal's modes
    t = Tty(['/bin/sh', '-c', 'trap "" INT; %s; echo "rc=$?"; stty -a' % quoted])
    answer_store(t, 'urbanwear-eu', 'source', TOKENS['source'])
    t.expect('shop domain (NAME.myshopify.com): ')
    t.send('urbanwear-us')
    t.expect('name for it in invsync [urbanwear-us]: ')
    t.send('destination')
    t.expect('which [1]: ')
    t.send('')
    t.expect('Admin API access token (not shown): ')
    time.sleep(0.2)
    t.ctrl('c')
    t.wait()
    out = t.text()
    check('interrupted; no configuration written' in out, 'says it was interrupted:\n' + out[-800:])
    check('rc=130' in out, 'init died of SIGINT (rc 130):\n' + out[-800:])
    modes = out[out.index('rc=130'):].split()
    check('echo' in modes and '-echo' not in modes, 'echo restored after Ctrl-C: %r' % modes[:60])
    check(os.listdir(ctx.dir) == [], 'nothing left in the directory: %r' % os.listdir(ctx.dir))


def test_existing_config_refused(ctx):
    """An existing config is kept, with a clear message and exit 1; --force replaces it."""
    ctx.load(catalog(['Main Warehouse'], ['Main Warehouse']))
    with open(ctx.conf, 'w') as f:
        f.write('# mine\n')
    src = ctx.secret('s', TOKENS['source'] + '\n')
    dst = ctx.secret('d', TOKENS['destination'] + '\n')
    flags = ['init', '--store', 'source=urbanwear-eu', '--token-file', 'source=' + src,
             '--store', 'destination=urbanwear-us', '--token-file', 'destination=' + dst] + \
        ctx.fake_flags()
    rc, out, err = ctx.run(*flags)
    check(rc == 1, 'init over an existing config exited %d, want 1' % rc)
    check('%s exists' % ctx.conf in err and '--force' in err, 'says why and how: %r' % err)
    check(read(ctx.conf) == '# mine\n', 'the config is untouched')
    t = ctx.tty(*ctx.fake_flags())
    check(t.wait() == 1, 'interactive init refused too')
    check('exists' in t.text() and 'shop domain' not in t.text(), 'refused before asking anything')
    rc, out, err = ctx.run(*(flags + ['--force']))
    check(rc == 0, '--force: exited %d: %s %s' % (rc, out[-800:], err[-800:]))
    check_written(ctx, ['Main Warehouse = Main Warehouse'])
    # the example install.sh puts there is not a config: replaced without --force
    with open(os.path.join(ctx.dir, 'invsync.conf.example'), 'w') as f:
        f.write('# the example\n')
    with open(ctx.conf, 'w') as f:
        f.write('# the example\n')
    for n in TOKENS:
        os.unlink(os.path.join(ctx.dir, '%s.token' % n))
    rc, out, err = ctx.run(*flags)
    check(rc == 0, 'over the example: exited %d: %s' % (rc, err[-800:]))


def test_flags_non_interactive(ctx):
    """The flags for scripts: a token file, client credentials, --link; nothing asked."""
    ctx.load(catalog(['Main Warehouse', 'Side'], ['US Warehouse', 'Side'], loc_dst='US Warehouse',
                     client_id='cid-dest', client_secret='sekrit-dest-42'))
    src = ctx.secret('source.tok', TOKENS['source'] + '\n', mode=0o644)
    sec = ctx.secret('dest.secret', 'sekrit-dest-42')
    base = ['init', '--store', 'source=urbanwear-eu.myshopify.com', '--token-file', 'source=' + src,
            '--store', 'destination=urbanwear-us.myshopify.com',
            '--client-id', 'destination=cid-dest', '--client-secret-file', 'destination=' + sec]
    # without --link only equal names link: Side; with it, exactly the links given
    rc, out, err = ctx.run(*(base + ctx.fake_flags() + ['--link', 'Main Warehouse = US Warehouse',
                                                        '--link', 'Side=Side']))
    check(rc == 0, 'exited %d: %s %s' % (rc, out[-1500:], err[-800:]))
    text = read(ctx.conf)
    for line in ('Main Warehouse = US Warehouse', 'Side = Side', 'client_id = cid-dest',
                 'client_secret_file = destination.secret', 'token_file = source.token'):
        check(line in text.splitlines(), 'no %r in:\n%s' % (line, text))
    p = os.path.join(ctx.dir, 'destination.secret')
    check(mode(p) == 0o600 and read(p) == 'sekrit-dest-42\n', 'client secret file 600, one line')
    check(mode(os.path.join(ctx.dir, 'source.token')) == 0o600, 'token copied with mode 600')
    check('sekrit' not in out + err and 'shpat_source' not in out + err, 'no secret printed')
    check('ready: syncing can start' in out, 'check ran and passed')
    rc, out, err = ctx.run('check')
    check(rc == 0, 'check of the written config: %d %s' % (rc, out[-800:]))
    # --no-check, equal names only; an instance-named config prefixes its secrets
    conf2 = os.path.join(ctx.dir, 'shop2.conf')
    rc, out, err = ctx.run(*(base + ctx.fake_flags() + ['--no-check']), conf=conf2)
    check(rc == 0, '--no-check exited %d: %s' % (rc, err[-800:]))
    text = read(conf2)
    check('Side = Side' in text.splitlines() and 'Main Warehouse' not in
          [ln.split('=')[0].strip() for ln in text.splitlines() if '=' in ln and not ln.startswith('#')],
          'only equal names linked without --link:\n' + text)
    check('token_file = shop2-source.token' in text, 'instance secrets are STEM-STORE.token')
    check('ready' not in out and 'next: invsync -c %s check' % conf2 in out, '--no-check skips check')


def test_root_gives_files_to_the_service(ctx):
    """As root in a directory of group G (install.sh: /etc/invsync root:invsync 750), the
    secrets go to user G, the config to root:G with mode 640; the user G can run check."""
    import grp
    import pwd
    if os.geteuid() != 0:
        raise Skip('needs root')
    try:
        pw = pwd.getpwnam('daemon')
        gname = grp.getgrgid(pw.pw_gid).gr_name
    except KeyError:
        raise Skip('no user daemon')
    check(gname == 'daemon', 'user daemon has group daemon')
    ctx.load(catalog(['Main Warehouse'], ['Main Warehouse']))
    os.chown(ctx.dir, 0, pw.pw_gid)
    os.chmod(ctx.dir, 0o750)
    src = ctx.secret('s', TOKENS['source'])
    dst = ctx.secret('d', TOKENS['destination'])
    ca = os.path.join(ctx.dir, 'ca.pem')       # the fake's own is in a private temp dir
    with open(ctx.fake.ca) as fi, open(ca, 'w') as fo:
        fo.write(fi.read())
    os.chmod(ca, 0o644)
    flags = ['init', '--store', 'source=urbanwear-eu', '--token-file', 'source=' + src,
             '--store', 'destination=urbanwear-us', '--token-file', 'destination=' + dst,
             '--no-check'] + ctx.fake_flags() + ['--ca-file', ca]
    rc, out, err = ctx.run(*flags)
    check(rc == 0, 'exited %d: %s' % (rc, err[-800:]))
    st = os.stat(ctx.conf)
    check((st.st_uid, st.st_gid, mode(ctx.conf)) == (0, pw.pw_gid, 0o640),
          'config root:daemon 640, is %d:%d %o' % (st.st_uid, st.st_gid, mode(ctx.conf)))
    for n in TOKENS:
        st = os.stat(os.path.join(ctx.dir, n + '.token'))
        check((st.st_uid, stat.S_IMODE(st.st_mode)) == (pw.pw_uid, 0o600),
              '%s.token owned by daemon, 600: %d %o' % (n, st.st_uid, stat.S_IMODE(st.st_mode)))
    # the service user reads them: its check passes (setpriv as in test_install.sh)
    p = subprocess.run(['setpriv', '--reuid=daemon', '--regid=daemon', '--clear-groups',
                        ctx.bin, '-c', ctx.conf, 'check'], capture_output=True, text=True,
                       timeout=120)
    check(p.returncode == 0, 'check as daemon exited %d: %s %s' % (p.returncode, p.stdout[-600:],
                                                                 p.stderr[-600:]))


def test_flags_refused(ctx):
    """Hostile or wrong flags: a clear message, exit 2 (flags) or 1 (a store), no crash."""
    ctx.load(catalog(['Main Warehouse'], ['Other']))
    tok = ctx.secret('t', 'shpat_source\n')
    empty = ctx.secret('e', '\n')
    big = ctx.secret('b', 'x' * 100000)
    ctl = ctx.secret('c', 'shpat_\x01x\n')
    two = ['--store', 'source=urbanwear-eu', '--store', 'destination=urbanwear-us']
    toks = ['--token-file', 'source=' + tok, '--token-file', 'destination=' + tok]
    cases = [
        (2, 'is not a shop domain', ['--store', 'source=evil.example.com', '--store', 'b=x'] + toks),
        (2, 'is not a shop domain', ['--store', 'source=' + 'a' * 5000, '--store', 'b=x']),
        (2, 'not a store name', ['--store', '../etc=urbanwear-eu', '--store', 'b=c']),
        (2, 'needs NAME=VALUE', ['--store', 'source']),
        (2, 'needs NAME=VALUE', ['--store', '=x.myshopify.com']),
        (2, 'at least two stores', ['--store', 'source=urbanwear-eu', '--token-file', 'source=' + tok]),
        (2, 'given twice', two + ['--store', 'source=urbanwear-uk'] + toks),
        (2, 'needs --token-file destination=FILE', two + ['--token-file', 'source=' + tok]),
        (2, 'give --store nope=SHOP before it', two + toks + ['--token-file', 'nope=' + tok]),
        (2, 'exclude each other', two + toks + ['--client-id', 'source=abc']),
        (2, 'needs --client-id', two + ['--token-file', 'source=' + tok,
                                        '--client-secret-file', 'destination=' + tok]),
        (2, 'must be https://', two + toks + ['--url', 'source=http://localhost:1']),
        (2, 'must be an absolute path', two + toks + ['--ca-file', 'ca.pem']),
        (2, 'unknown flag', two + toks + ['--bogus', 'x']),
        (2, 'missing value', two + toks + ['--link']),
        (2, '--link goes with --store', ['--link', 'a=b']),
        (1, 'the secret in %s is refused: it is empty' % empty,
         two + ['--token-file', 'source=' + empty, '--token-file', 'destination=' + tok]),
        (1, 'longer than', two + ['--token-file', 'source=' + big, '--token-file', 'destination=' + tok]),
        (1, 'is refused: it holds a blank',
         two + ['--token-file', 'source=' + ctl, '--token-file', 'destination=' + tok]),
        (1, 'No such file', two + ['--token-file', 'source=/nonexistent', '--token-file',
                                   'destination=' + tok]),
        (1, 'not a regular file', two + ['--token-file', 'source=/', '--token-file', 'destination=' + tok]),
        (1, 'access refused: HTTP 401', two + toks + ctx.fake_flags()),     # destination's token is source's
        (1, 'no location has the same name in every store',
         two + ['--token-file', 'source=' + tok, '--token-file',
                'destination=' + ctx.secret('d', 'shpat_destination')] + ctx.fake_flags()),
        (1, "--link 'Main Warehouse=Nowhere': store destination has no active location 'Nowhere'",
         two + ['--token-file', 'source=' + tok, '--token-file',
                'destination=' + ctx.secret('d', 'shpat_destination')] + ctx.fake_flags() +
         ['--link', 'Main Warehouse=Nowhere']),
        (1, 'give one location per store (2)',
         two + ['--token-file', 'source=' + tok, '--token-file',
                'destination=' + ctx.secret('d', 'shpat_destination')] + ctx.fake_flags() +
         ['--link', 'Main Warehouse=Other=Third']),
    ]
    for want_rc, want, args in cases:
        rc, out, err = ctx.run('init', *args)
        what = ' '.join(args)[:160]
        check(rc == want_rc, '%s: exited %d, want %d: %s' % (what, rc, want_rc, err[-400:]))
        check(want in err, '%s: no %r in: %s' % (what, want, err[-600:]))
        check('shpat_source' not in out + err, '%s: the token was printed' % what)
        check(not os.path.exists(ctx.conf), '%s: a config was written' % what)
        check(ctx.leftovers() == [], '%s: temporary files left: %r' % (what, ctx.leftovers()))
    # a directory init makes for the config goes again when init fails
    sub = os.path.join(ctx.dir, 'sub')
    rc, out, err = ctx.run('init', *(two + ['--token-file', 'source=' + empty, '--token-file',
                                            'destination=' + tok]), conf=os.path.join(sub, 'a.conf'))
    check(rc == 1 and not os.path.exists(sub), 'the directory made is removed: %d %r' % (rc, err))
    for bad in (ctx.dir + '/', ctx.dir + '/my conf.conf', ctx.dir + '/.conf',
                ctx.dir + '/' + 'x' * 100 + '.conf'):
        rc, out, err = ctx.run('init', *(two + toks), conf=bad)
        check(rc == 1 and 'the configuration must be a file DIR/NAME.conf' in err,
              '-c %r: %d %r' % (bad, rc, err))
    rc, out, err = ctx.run('init', '--help')
    check(rc == 0 and '--store NAME=SHOP' in out, 'init --help: %d %r' % (rc, out))
    # interactive without a terminal: told to use the flags
    rc, out, err = ctx.run('init')
    check(rc == 1 and 'not a terminal' in err, 'init on a pipe: %d %r' % (rc, err))


TESTS = [(n[5:], fn) for n, fn in sorted(globals().items()) if n.startswith('test_') and callable(fn)]


def main():
    return run_suite('init', TESTS, ctx_class=Ctx)


if __name__ == '__main__':
    sys.exit(main())
