// JSON for the console's editors, without Monaco's JSON language service and its worker
// (about 280 KB gzip): colouring by a Monarch tokenizer, brackets and quotes that close
// themselves, folding by indentation. The console checks the text itself (JSON syntax and
// IoT Hub's twin rules) and puts its findings on the editor as markers, so the service's
// schema-less validation, completion and hovers added nothing an operator saw.
import * as monaco from 'monaco-editor/editor/editor.api.js';

const LANGUAGE = 'json';

/** Monaco's own themes colour these token names (they are the JSON language's). */
const tokens: monaco.languages.IMonarchLanguage = {
  defaultToken: 'invalid',
  tokenPostfix: '.json',
  escapes: /\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4})/,
  tokenizer: {
    root: [
      [/[ \t\r\n]+/, ''],
      [/[{}[\]]/, 'delimiter.bracket'],
      [/[,:]/, 'delimiter'],
      // A string followed by a colon is a key.
      [/"(?:[^"\\]|\\.)*"(?=\s*:)/, 'string.key'],
      [/"/, { token: 'string.value', next: '@string' }],
      [/-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/, 'number'],
      [/\b(?:true|false|null)\b/, 'keyword'],
    ],
    string: [
      [/[^\\"]+/, 'string.value'],
      [/@escapes/, 'string.escape'],
      [/\\./, 'string.escape.invalid'],
      [/"/, { token: 'string.value', next: '@pop' }],
    ],
  },
};

if (!monaco.languages.getLanguages().some((language) => language.id === LANGUAGE)) {
  monaco.languages.register({
    id: LANGUAGE,
    extensions: ['.json'],
    mimetypes: ['application/json'],
  });
  monaco.languages.setMonarchTokensProvider(LANGUAGE, tokens);
  monaco.languages.setLanguageConfiguration(LANGUAGE, {
    brackets: [
      ['{', '}'],
      ['[', ']'],
    ],
    autoClosingPairs: [
      { open: '{', close: '}', notIn: ['string'] },
      { open: '[', close: ']', notIn: ['string'] },
      { open: '"', close: '"', notIn: ['string'] },
    ],
    surroundingPairs: [
      { open: '{', close: '}' },
      { open: '[', close: ']' },
      { open: '"', close: '"' },
    ],
  });
}
