/** The command line as modelswap and llama-swap users spell it (no process; see test/e2e/cli.test.ts for the real one). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HELP, normalizeGoFlags, parseCliArgs, parseListen, UsageError, type CliArgs } from '../../src/cli-args.ts';

const run = (...argv: string[]): CliArgs => {
  const c = parseCliArgs(argv);
  assert.equal(c.kind, 'run');
  return c as CliArgs;
};
const usage = (argv: string[], re: RegExp): void => assert.throws(() => parseCliArgs(argv), (err: unknown) => err instanceof UsageError && re.test(err.message));

describe('normalizeGoFlags', () => {
  it('turns one-dash long flags into two-dash ones, with or without =value', () => {
    assert.deepEqual(normalizeGoFlags(['-config', 'a.yaml', '-listen=:9', '-watch-config', '-config-dir', 'd']), [
      '--config', 'a.yaml', '--listen=:9', '--watch-config', '--config-dir', 'd',
    ]);
    assert.deepEqual(normalizeGoFlags(['-tls-cert-file=c.pem', '-tls-key-file', 'k.pem', '-version', '-help', '-state-file', 's']), [
      '--tls-cert-file=c.pem', '--tls-key-file', 'k.pem', '--version', '--help', '--state-file', 's',
    ]);
  });

  it('leaves short flags, unknown flags, values and everything after -- alone', () => {
    assert.deepEqual(normalizeGoFlags(['-c', '-config', '-w', '-cfile.yaml', '-nope', '-l', '-listen']), ['-c', '-config', '-w', '-cfile.yaml', '-nope', '-l', '-listen']);
    assert.deepEqual(normalizeGoFlags(['--config', '-version', '--', '-listen']), ['--config', '-version', '--', '-listen']);
  });

  it('reads Go truth values of a boolean, the last one winning', () => {
    assert.deepEqual(normalizeGoFlags(['-watch-config=true']), ['--watch-config']);
    assert.deepEqual(normalizeGoFlags(['-w', '--watch-config', '-watch-config=false', '-config', 'x']), ['--config', 'x']);
    assert.deepEqual(normalizeGoFlags(['-watch-config=F', '--watch-config=1']), ['--watch-config']);
    assert.deepEqual(normalizeGoFlags(['--watch-config=maybe']), ['--watch-config=maybe'], 'left for parseArgs to refuse');
  });
});

describe('parseCliArgs', () => {
  it('reads every spelling of a flag the same way', () => {
    const spellings = [
      ['-config', 'a.yaml', '-listen', '127.0.0.1:9000', '-watch-config'],
      ['-config=a.yaml', '-listen=127.0.0.1:9000', '-watch-config=true'],
      ['--config', 'a.yaml', '--listen', '127.0.0.1:9000', '--watch-config'],
      ['--config=a.yaml', '--listen=127.0.0.1:9000', '--watch-config'],
      ['-c', 'a.yaml', '-l', '127.0.0.1:9000', '-w'],
      ['-ca.yaml', '-l127.0.0.1:9000', '-w'],
    ];
    for (const argv of spellings) {
      const a = run(...argv);
      assert.deepEqual([a.config, a.listen, a.watchConfig], ['a.yaml', { host: '127.0.0.1', port: 9000 }, true], argv.join(' '));
    }
  });

  it('lets the last --config win (npm start -- --config x)', () => {
    assert.equal(run('--config', 'demo/config.yaml', '-config', 'mine.yaml').config, 'mine.yaml');
  });

  it('takes --config-dir with or without --config, and needs one of them', () => {
    assert.deepEqual([run('-config-dir', 'conf.d').configDir, run('-config-dir', 'conf.d').config], ['conf.d', undefined]);
    assert.deepEqual([run('--config=a', '--config-dir=d').config, run('--config=a', '--config-dir=d').configDir], ['a', 'd']);
    usage([], /--config or --config-dir is required/);
    usage(['-listen', ':1'], /--config or --config-dir is required/);
  });

  it('defaults to 127.0.0.1:8080, and to 127.0.0.1:8443 with TLS', () => {
    assert.deepEqual(run('-c', 'x').listen, { host: '127.0.0.1', port: 8080 });
    const tls = run('-c', 'x', '-tls-cert-file', 'c.pem', '-tls-key-file', 'k.pem');
    assert.deepEqual([tls.listen, tls.tls], [{ host: '127.0.0.1', port: 8443 }, { certFile: 'c.pem', keyFile: 'k.pem' }]);
    assert.deepEqual(run('-c', 'x', '--tls-cert-file=c', '--tls-key-file=k', '-listen', ':9443').listen, { host: '0.0.0.0', port: 9443 });
    assert.equal(run('-c', 'x').tls, undefined);
  });

  it('refuses half a TLS pair', () => {
    usage(['-c', 'x', '-tls-cert-file', 'c.pem'], /--tls-cert-file and --tls-key-file go together/);
    usage(['-c', 'x', '--tls-key-file=k.pem'], /--tls-cert-file and --tls-key-file go together/);
  });

  it('refuses unknown flags, missing values, empty values, positionals and bad addresses', () => {
    usage(['-c', 'x', '--nope'], /Unknown option '--nope'/);
    usage(['-c', 'x', '-nope'], /Unknown option '-n'/);
    usage(['-config'], /argument missing/);
    usage(['--config='], /--config needs a value/);
    usage(['-c', 'x', 'extra'], /positional argument/);
    usage(['-c', 'x', '-listen', 'nowhere'], /--listen expects host:port/);
    usage(['-c', 'x', '--watch-config=maybe'], /does not take an argument/);
  });

  it('answers help and version before anything else', () => {
    assert.deepEqual(parseCliArgs(['-help']), { kind: 'help' });
    assert.deepEqual(parseCliArgs(['-h']), { kind: 'help' });
    assert.deepEqual(parseCliArgs(['-version']), { kind: 'version' });
    assert.deepEqual(parseCliArgs(['--version', '-config', 'x']), { kind: 'version' });
    assert.deepEqual(parseCliArgs(['-v']), { kind: 'version' });
  });

  it('lists every flag in the help', () => {
    for (const flag of ['--config', '--config-dir', '--listen', '--tls-cert-file', '--tls-key-file', '--watch-config', '--state-file', '--version', '--help']) {
      assert.ok(HELP.includes(flag), flag);
    }
  });
});

describe('parseListen', () => {
  it('reads host:port, [v6]:port and :port (all interfaces)', () => {
    assert.deepEqual(parseListen('localhost:80'), { host: 'localhost', port: 80 });
    assert.deepEqual(parseListen('[::1]:8080'), { host: '::1', port: 8080 });
    assert.deepEqual(parseListen(':8080'), { host: '0.0.0.0', port: 8080 });
    assert.throws(() => parseListen('127.0.0.1:70000'), UsageError);
  });
});
