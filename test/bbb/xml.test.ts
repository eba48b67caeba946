import { describe, expect, it } from 'vitest';
import { buildResponse, children, entries, failedResponse, parseResponse, parseXml, text, XmlError } from '../../server/bbb/xml.js';

describe('BBB XML', () => {
  it('keeps repeating elements as arrays even when there is one, and values as strings', () => {
    const r = parseResponse(`<response><returncode>SUCCESS</returncode><meetings><meeting>
      <meetingID>007</meetingID><voiceBridge>70066</voiceBridge>
      <attendees><attendee><userID>w_1</userID></attendee></attendees>
      <metadata><gl-listed>true</gl-listed><empty/></metadata></meeting></meetings></response>`);
    expect(r).toEqual({
      returncode: 'SUCCESS',
      meetings: {
        meeting: [
          {
            meetingID: '007',
            voiceBridge: '70066',
            attendees: { attendee: [{ userID: 'w_1' }] },
            metadata: { 'gl-listed': 'true', empty: '' },
          },
        ],
      },
    });
    const meeting = children(r['meetings'], 'meeting')[0];
    expect(entries(meeting?.['metadata'])).toEqual({ 'gl-listed': 'true', empty: '' });
  });

  it('parses recordings with formats and preview images', () => {
    const r = parseResponse(`<?xml version="1.0"?><response><returncode>SUCCESS</returncode><recordings><recording>
      <recordID>abc-1</recordID><playback><format><type>presentation</type>
      <preview><images><image width="176" height="136" alt="Welcome">https://h/t.png</image></images></preview>
      </format></playback></recording></recordings></response>`);
    const rec = children(r['recordings'], 'recording')[0];
    const format = children(rec?.['playback'], 'format')[0];
    const image = children(children(format?.['preview'], 'images')[0], 'image')[0];
    expect(text(format, 'type')).toBe('presentation');
    expect(image).toEqual({ '#text': 'https://h/t.png', '@_width': '176', '@_height': '136', '@_alt': 'Welcome' });
  });

  it('sees empty lists as empty', () => {
    const r = parseResponse('<response><returncode>SUCCESS</returncode><meetings/><messageKey>noMeetings</messageKey></response>');
    expect(children(r['meetings'], 'meeting')).toEqual([]);
    expect(text(r, 'messageKey')).toBe('noMeetings');
  });

  it('refuses what is not a BBB response', () => {
    expect(() => parseResponse('<html><body>502 Bad Gateway</body></html>')).toThrow(XmlError);
    expect(() => parseResponse('')).toThrow(XmlError);
    expect(() => parseResponse('<response><x>1</x></response>')).toThrow(XmlError);
    expect(() => parseXml('<a><b></a>')).toThrow(XmlError);
  });

  it('builds BBB-style answers with returncode first, escaped text and repeated elements', () => {
    const xml = buildResponse({ meetings: { meeting: [{ meetingID: 'a&b' }, { meetingID: '<2>' }] }, returncode: 'SUCCESS', attendees: '', running: false });
    expect(xml).toBe(
      '<response><returncode>SUCCESS</returncode><meetings><meeting><meetingID>a&amp;b</meetingID></meeting>' +
        '<meeting><meetingID>&lt;2&gt;</meetingID></meeting></meetings><attendees/><running>false</running></response>',
    );
    expect(children(parseResponse(xml)['meetings'], 'meeting').map((m) => text(m, 'meetingID'))).toEqual(['a&b', '<2>']);
  });

  it('builds FAILED answers with messageKey and message', () => {
    expect(failedResponse('checksumError', 'Checksums do not match')).toBe(
      '<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey><message>Checksums do not match</message></response>',
    );
  });
});
