// What text the server accepts from outside (server/http/text.ts): every field
// of every route goes through these, so each character class is checked here.
import { describe, expect, it } from 'vitest';
import { isCleanText, LINE_CONTROL, uncleanTextAt } from '../../server/http/text.js';

describe('clean text', () => {
  it('allows tab, line feed and carriage return, and all of Unicode in pairs', () => {
    for (const ok of ['', 'plain', 'tab\there', 'lines\nand\r\nmore', 'emoji 😀 paired', 'Ünïcödé ☃', '\u0080\u00a0 C1 and NBSP', '\u200b'])
      expect(isCleanText(ok), JSON.stringify(ok)).toBe(true);
  });

  it('refuses every other C0 control, DEL and unpaired surrogates', () => {
    const refused = ['\u0000', '\u0001', '\u0008', '\u000b', '\u000c', '\u000e', '\u001b', '\u001f', '\u007f', '\ud800', '\udfff', 'a\ud83db', '\ude00x'];
    for (const bad of refused) expect(isCleanText(`before${bad}after`), JSON.stringify(bad)).toBe(false);
    expect(isCleanText('\u0000')).toBe(false);
  });

  it('single-line values refuse tab and line breaks too', () => {
    for (const c of ['\t', '\n', '\r', '\u0000', '\u001f', '\u007f']) expect(LINE_CONTROL.test(`a${c}b`), JSON.stringify(c)).toBe(true);
    expect(LINE_CONTROL.test('one line, 😀')).toBe(false);
  });
});

describe('the first unclean string in a value', () => {
  it('is found at any depth, in values and in keys, with its path', () => {
    expect(uncleanTextAt({ name: 'ok', tags: ['a', 'b'], n: 3, yes: true, none: null })).toBeUndefined();
    expect(uncleanTextAt('bad\u0000')).toEqual([]);
    expect(uncleanTextAt({ name: 'ok', nested: { list: ['fine', 'bad\u0001'] } })).toEqual(['nested', 'list', '1']);
    expect(uncleanTextAt({ ['key\u0000']: 'value' })).toEqual(['(key)']);
    expect(uncleanTextAt({ a: { ['k\u007f']: 1 } })).toEqual(['a', '(key)']);
    expect(uncleanTextAt([['x', ['y', '\ud800']]])).toEqual(['0', '1', '1']);
    expect(uncleanTextAt({ first: 'bad\u0002', second: 'bad\u0003' })).toEqual(['first']);
    expect(uncleanTextAt([{ fine: 'yes' }, 'also\u001b'])).toEqual(['1']);
  });

  it('leaves numbers, booleans and null alone', () => {
    expect(uncleanTextAt(0)).toBeUndefined();
    expect(uncleanTextAt(false)).toBeUndefined();
    expect(uncleanTextAt(null)).toBeUndefined();
    expect(uncleanTextAt(undefined)).toBeUndefined();
  });
});
