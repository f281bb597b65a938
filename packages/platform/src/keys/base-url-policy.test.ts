import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../config.js';
import { publicOnlyConnector } from '../router/upstream/upstream-client.js';
import { hostIsListed, parseAllowedHost, parseAllowedHosts } from './allowed-hosts.js';
import { assertBaseUrlAllowed, BaseUrlNotAllowedError, memberBaseUrlRefusal, officialOrigin } from './base-url-policy.js';
import { tableLookup } from '../../test/support/table-lookup.js';
import { InternalAddressError, isInternalAddress } from './internal-address.js';

describe('allowed hosts (KEYWARD_KEY_BASE_URL_ALLOW)', () => {
  it('normalizes host and host:port entries the way a URL does', () => {
    expect(parseAllowedHosts(' API.Example.com , 10.0.0.5:8000,127.1:9000,[::1]:443, gpu-box.')).toEqual([
      'api.example.com',
      '10.0.0.5:8000',
      '127.0.0.1:9000',
      '[::1]:443',
      'gpu-box',
    ]);
    expect(parseAllowedHosts('')).toEqual([]);
  });

  it.each(['http://x.example', 'x.example/path', 'user@x.example', 'x.example:0', 'x.example:70000', 'a b', '::1'])('refuses "%s"', (entry) => {
    expect(() => parseAllowedHost(entry)).toThrow(/is not a host or host:port/);
  });

  it('a bare host allows every port; host:port only that port (the scheme default counts)', () => {
    expect(hostIsListed(new URL('http://gpu-box:1234/v1'), ['gpu-box'])).toBe(true);
    expect(hostIsListed(new URL('http://gpu-box:1234/v1'), ['gpu-box:8000'])).toBe(false);
    expect(hostIsListed(new URL('https://gpu-box/v1'), ['gpu-box:443'])).toBe(true);
    expect(hostIsListed(new URL('http://gpu-box/v1'), ['gpu-box:443'])).toBe(false);
  });

  it('is read by config.ts; a bad entry stops the start with the variable named', () => {
    expect(loadConfig({ KEYWARD_KEY_BASE_URL_ALLOW: 'gpu-box:8000' }).keyBaseUrlAllow).toEqual(['gpu-box:8000']);
    expect(loadConfig({}).keyBaseUrlAllow).toEqual([]);
    expect(() => loadConfig({ KEYWARD_KEY_BASE_URL_ALLOW: 'http://gpu-box' })).toThrow(ConfigError);
    expect(() => loadConfig({ KEYWARD_KEY_BASE_URL_ALLOW: 'http://gpu-box' })).toThrow(/KEYWARD_KEY_BASE_URL_ALLOW/);
  });
});

describe('internal addresses', () => {
  it.each([
    '127.0.0.1', '127.0.0.2', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1',
    '255.255.255.255', '240.0.0.1', '198.18.0.1', '::1', '::', 'fe80::1', 'fd00::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1',
    '64:ff9b::a00:1', '2002:7f00:1::', 'not-an-ip',
  ])('%s is internal', (address) => {
    expect(isInternalAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '93.184.215.14', '2606:4700::1111', '64:ff9b::808:808'])('%s is public', (address) => {
    expect(isInternalAddress(address)).toBe(false);
  });
});

describe('the member policy, when a key is added', () => {
  const lookup = tableLookup({ 'api.openai.com': ['162.159.140.245'], 'metadata.internal': ['169.254.169.254'], 'gpu-box': ['10.0.0.7'] });
  const member = (provider: string, baseUrl: string, allowList: string[] = []) =>
    assertBaseUrlAllowed({ provider, baseUrl, policy: 'member', allowList, lookup });

  it('official endpoints come from the providers, not a copy; local defaults (Ollama, vLLM) are not official', () => {
    expect(officialOrigin('openai')).toBe('https://api.openai.com');
    expect(officialOrigin('anthropic')).toBe('https://api.anthropic.com');
    expect(officialOrigin('ollama')).toBeNull();
    expect(officialOrigin('openai-compatible')).toBeNull();
  });

  it('the provider’s official endpoint passes', async () => {
    await expect(member('openai', 'https://api.openai.com/v1')).resolves.toBeUndefined();
  });

  it('a loopback address that is not listed is refused, saying why and what an admin can do', async () => {
    const error = await member('openai-compatible', 'http://127.0.0.2:8080/v1').catch((e) => e);
    expect(error).toBeInstanceOf(BaseUrlNotAllowedError);
    expect(error.code).toBe('base_url_not_allowed');
    expect(error.message).toContain('"127.0.0.2:8080" is neither');
    expect(error.message).toContain('An admin can allow that host (KEYWARD_KEY_BASE_URL_ALLOW');
  });

  it('another provider’s endpoint, another port or plain http on an official host are refused', () => {
    expect(memberBaseUrlRefusal('openai', 'https://api.anthropic.com', [])).toMatch(/OpenAI's official endpoint/);
    expect(memberBaseUrlRefusal('openai', 'https://api.openai.com:8443/v1', [])).not.toBeNull();
    expect(memberBaseUrlRefusal('openai', 'http://api.openai.com/v1', [])).not.toBeNull();
    expect(memberBaseUrlRefusal('ollama', 'http://localhost:11434/v1', [])).toMatch(/Ollama has none/);
  });

  it('a listed host passes, even when it resolves to an internal address (the operator said so)', async () => {
    await expect(member('ollama', 'http://gpu-box:11434/v1', ['gpu-box'])).resolves.toBeUndefined();
    await expect(member('ollama', 'http://gpu-box:11434/v1', ['gpu-box:8000'])).rejects.toThrow(BaseUrlNotAllowedError);
  });

  it('an official host name that resolves to an internal address is refused', async () => {
    const rebound = tableLookup({ 'api.openai.com': ['127.0.0.1'] });
    const error = await assertBaseUrlAllowed({ provider: 'openai', baseUrl: 'https://api.openai.com/v1', policy: 'member', allowList: [], lookup: rebound }).catch((e) => e);
    expect(error).toBeInstanceOf(BaseUrlNotAllowedError);
    expect(error.message).toContain('"api.openai.com" resolves to an internal network address');
    expect(error.message).not.toContain('127.0.0.1');
  });

  it('admins’ keys (policy any) pass with any URL, without a lookup', async () => {
    const none = tableLookup({});
    await assertBaseUrlAllowed({ provider: 'openai', baseUrl: 'http://169.254.169.254/latest', policy: 'any', allowList: [], lookup: none });
    expect(none.calls).toEqual([]);
  });
});

describe('the public-only connector (connect time)', () => {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
  });
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const refusedBy = async (agent: Agent, url: string) => {
    const error = await request(url, { dispatcher: agent }).catch((e) => e);
    await agent.close();
    return error;
  };

  it('a name that rebinds to loopback after a public answer is refused at connect time, and no connection is made', async () => {
    const lookup = tableLookup({ 'rebind.example': ['93.184.215.14', '127.0.0.1'] });
    lookup('rebind.example', {}, () => undefined); // the answer the key was added under
    const before = connections;
    const error = await refusedBy(new Agent({ connect: publicOnlyConnector(2000, lookup) }), `http://rebind.example:${port}/`);
    expect(error).toBeInstanceOf(InternalAddressError);
    expect(connections).toBe(before);
  });

  it('an internal IP literal is refused before connecting; the same host through a plain agent connects', async () => {
    const before = connections;
    expect(await refusedBy(new Agent({ connect: publicOnlyConnector(2000) }), `http://127.0.0.1:${port}/`)).toBeInstanceOf(InternalAddressError);
    expect(await refusedBy(new Agent({ connect: publicOnlyConnector(2000) }), `http://[::ffff:127.0.0.1]:${port}/`)).toBeInstanceOf(InternalAddressError);
    expect(connections).toBe(before);
    const plain = new Agent();
    const response = await request(`http://127.0.0.1:${port}/`, { dispatcher: plain });
    expect(await response.body.text()).toBe('ok');
    await plain.close();
    expect(connections).toBe(before + 1);
  });
});
