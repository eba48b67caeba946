// metadata.xml links a recording's players and previews on whatever host name
// the source plays it from: every link to one of the source cluster's playback
// hosts is rewritten for the target, any other link is left alone.
import { describe, expect, it } from 'vitest';
import { playbackLinkRewriter } from '../../server/transfers/playback-links.js';

const metadata = (host: string, other = 'https://greenlight.school.example') => `<?xml version="1.0" encoding="UTF-8"?>
<recording>
  <meta><bbb-origin-server-name>greenlight.school.example</bbb-origin-server-name><bbb-recording-ready-url>${other}/recording_ready?x=1&amp;y=2</bbb-recording-ready-url></meta>
  <playback>
    <format>presentation</format>
    <link>${host}/playback/presentation/2.3/abc-123</link>
    <extensions><preview><images><image width="176" height="136" alt="Welcome">${host}/presentation/abc-123/presentation/p1/thumbnails/thumb-1.png</image></images></preview></extensions>
  </playback>
</recording>
`;

describe('rewriting playback links for the target', () => {
  const target = { apiUrl: 'https://bbb.new-coop.example/bigbluebutton/api', playbackHosts: [] };

  it("rewrites links to a playback host other than the API's, and leaves other hosts alone", () => {
    const source = { apiUrl: 'https://api.old-coop.example/bigbluebutton/api', playbackHosts: ['recordings.old-coop.example', 'bbb-old.example:8443'] };
    const relink = playbackLinkRewriter(source, target);
    const out = relink(metadata('https://recordings.old-coop.example'));
    expect(out).toBe(metadata('https://bbb.new-coop.example'));
    expect(out).toContain('https://greenlight.school.example/recording_ready?x=1&amp;y=2');
    // Any listed host, in any case, with its port; the default port written out matches the name without one.
    expect(relink('<link>https://BBB-OLD.example:8443/playback/x</link>')).toBe('<link>https://bbb.new-coop.example/playback/x</link>');
    expect(relink('<link>https://recordings.old-coop.example:443/playback/x</link>')).toBe('<link>https://bbb.new-coop.example/playback/x</link>');
    // Not the same host: another port, a longer name, a name that merely contains it.
    for (const other of ['https://bbb-old.example/p', 'https://recordings.old-coop.example.evil.example/p', 'https://xrecordings.old-coop.example/p', 'https://api.old-coop.example/p'])
      expect(relink(`<link>${other}</link>`)).toBe(`<link>${other}</link>`);
  });

  it("uses the API's host when no playback host is configured, on both sides, with the target's scheme and port", () => {
    const source = { apiUrl: 'http://10.0.0.5:8080/bigbluebutton/api', playbackHosts: [] };
    const relink = playbackLinkRewriter(source, { apiUrl: 'http://127.0.0.1:9000/bigbluebutton/api', playbackHosts: [] });
    expect(relink(metadata('http://10.0.0.5:8080'))).toBe(metadata('http://127.0.0.1:9000'));
    expect(playbackLinkRewriter(source, { apiUrl: 'https://api.new.example/bigbluebutton/api', playbackHosts: ['play.new.example'] })(metadata('http://10.0.0.5:8080'))).toBe(
      metadata('https://play.new.example'),
    );
  });
});
