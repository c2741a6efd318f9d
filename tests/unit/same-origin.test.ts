/**
 * isSameOrigin: whether a write's Origin is the deployment's own page, from the request URL or what
 * a proxy in front says the browser used (X-Forwarded-Proto / X-Forwarded-Host). Origins compare as
 * URL serialises them, so a default port on either side (a proxy's `example.org:443`) is no
 * different origin, and what is not an origin matches nothing and never throws.
 */
import { describe, expect, it } from 'vitest';
import { isSameOrigin } from '../../lib/app.js';

// Vercel's launcher and a Node server behind nginx: the function is reached over plain HTTP.
const URL_BEHIND_PROXY = 'http://internal:3000/api/session-log';

describe('isSameOrigin', () => {
  it('the request URL’s own origin, with or without the default port on either side', () => {
    expect(isSameOrigin('https://example.org/api/x', 'https://example.org')).toBe(true);
    expect(isSameOrigin('https://example.org/api/x', 'https://example.org:443')).toBe(true);
    expect(isSameOrigin('http://example.org:80/api/x', 'http://example.org')).toBe(true);
    expect(isSameOrigin('https://example.org/api/x', 'https://Example.ORG')).toBe(true);
    expect(isSameOrigin('https://example.org/api/x', 'https://example.org:8443')).toBe(false);
    expect(isSameOrigin('https://example.org/api/x', 'http://example.org')).toBe(false);
  });

  it('a forwarded host with the scheme’s default port is the page without it; the page may name it too', () => {
    const same = (origin: string, proto: string, host: string) => isSameOrigin(URL_BEHIND_PROXY, origin, proto, host);
    expect(same('https://example.org', 'https', 'example.org:443')).toBe(true);
    expect(same('https://example.org', 'https', 'example.org')).toBe(true);
    expect(same('https://example.org:443', 'https', 'example.org')).toBe(true);
    expect(same('https://example.org:443', 'https', 'example.org:443')).toBe(true);
    expect(same('http://example.org', 'http', 'example.org:80')).toBe(true);
    // A port is the default of its own scheme only.
    expect(same('https://example.org', 'https', 'example.org:80')).toBe(false);
    expect(same('http://example.org', 'http', 'example.org:443')).toBe(false);
    expect(same('http://example.org:443', 'http', 'example.org:443')).toBe(true);
  });

  it('another port is another origin, kept on both sides', () => {
    const same = (origin: string, host: string) => isSameOrigin(URL_BEHIND_PROXY, origin, 'https', host);
    expect(same('https://example.org:8443', 'example.org:8443')).toBe(true);
    expect(same('https://example.org', 'example.org:8443')).toBe(false);
    expect(same('https://example.org:8443', 'example.org')).toBe(false);
    expect(same('https://example.org:8443', 'example.org:443')).toBe(false);
  });

  it('case does not matter in the scheme or the host, on either side', () => {
    expect(isSameOrigin(URL_BEHIND_PROXY, 'https://example.org', 'HTTPS', 'Example.ORG:443')).toBe(true);
    expect(isSameOrigin(URL_BEHIND_PROXY, 'https://Example.org', 'https', 'EXAMPLE.org')).toBe(true);
    expect(isSameOrigin(URL_BEHIND_PROXY, 'HTTPS://example.org:443', 'https', 'example.org')).toBe(true);
  });

  it('comma lists (proxies in a chain): the first entry is the client’s, the others are not read', () => {
    expect(isSameOrigin(URL_BEHIND_PROXY, 'https://example.org', 'https, http', 'example.org:443, internal:3000')).toBe(true);
    expect(isSameOrigin(URL_BEHIND_PROXY, 'https://example.org', ' https ,http', ' Example.org:443 ,internal')).toBe(true);
    expect(isSameOrigin(URL_BEHIND_PROXY, 'http://internal:3000', 'https, http', 'example.org, internal:3000')).toBe(true); // the request URL's own
    expect(isSameOrigin(URL_BEHIND_PROXY, 'https://internal:3000', 'https, http', 'example.org:443, internal:3000')).toBe(false);
    expect(isSameOrigin(URL_BEHIND_PROXY, 'http://example.org', 'https, http', 'example.org')).toBe(false);
  });

  it('without a forwarded host, the request’s own host under the forwarded scheme', () => {
    expect(isSameOrigin('http://example.org/api/x', 'https://example.org', 'https')).toBe(true);
    expect(isSameOrigin('http://example.org:443/api/x', 'https://example.org', 'https')).toBe(true);
    expect(isSameOrigin('http://example.org:3000/api/x', 'https://example.org', 'https')).toBe(false);
    expect(isSameOrigin('http://example.org/api/x', 'https://example.org')).toBe(false); // no proxy said https
  });

  it('an invalid host or origin matches nothing and does not throw', () => {
    const hosts = ['exa mple.org', 'example.org:99999', 'example.org:port', '[::1', 'example.org:443:443', 'evil.example@example.org', 'example.org/evil', 'example.org\\evil', 'example.org#x', '%', ':443'];
    for (const host of hosts) {
      expect(() => isSameOrigin(URL_BEHIND_PROXY, 'https://example.org', 'https', host), host).not.toThrow();
      expect(isSameOrigin(URL_BEHIND_PROXY, 'https://example.org', 'https', host), host).toBe(false);
    }
    const origins = ['null', '', 'example.org', 'https://', 'https://exa mple.org', 'https://example.org:99999', 'https://user@example.org', 'https://example.org/path', 'javascript://example.org', 'file:///etc'];
    for (const origin of origins) {
      expect(() => isSameOrigin(URL_BEHIND_PROXY, origin, 'https', 'example.org'), origin).not.toThrow();
      expect(isSameOrigin(URL_BEHIND_PROXY, origin, 'https', 'example.org'), origin).toBe(false);
    }
    expect(isSameOrigin(URL_BEHIND_PROXY, 'javascript://example.org', 'javascript', 'example.org')).toBe(false);
  });
});
