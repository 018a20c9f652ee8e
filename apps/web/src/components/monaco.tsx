// The only module that imports Monaco. It is loaded lazily, and Monaco comes from this
// bundle with its workers (same-origin files): operators on closed networks have no CDN.
// Only what the console uses is bundled: the editor API, a light JSON language of our own
// (./json-language.ts), the editor worker (the diff view's diffs) and the contributions
// listed here: the console's editors hold a twin, a payload or a body, and need moving
// around, finding, folding, brackets, the clipboard and the markers' messages on hover.
// (`monaco-editor` itself would pull in ~80 languages, the TypeScript, CSS, HTML and JSON
// workers and every editor feature; a command palette and word completion added nothing.)
import * as monaco from 'monaco-editor/editor/editor.api.js';
import './json-language.ts';
import 'monaco-editor/editor/browser/coreCommands.js';
import 'monaco-editor/editor/contrib/bracketMatching/browser/bracketMatching.js';
import 'monaco-editor/editor/contrib/clipboard/browser/clipboard.js';
import 'monaco-editor/editor/contrib/find/browser/findController.js';
import 'monaco-editor/editor/contrib/folding/browser/folding.js';
import 'monaco-editor/editor/contrib/gotoError/browser/gotoError.js';
import 'monaco-editor/editor/contrib/wordHighlighter/browser/wordHighlighter.js';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import { useEffect, useRef, useState } from 'react';

self.MonacoEnvironment = { getWorker: () => new EditorWorker() };

export interface EditorMarker {
  /** Keys and indexes from the document root, e.g. `['tags', 'bad.key']`. */
  location?: (string | number)[];
  /** Or a character offset (JSON syntax errors). */
  offset?: number;
  message: string;
}

function markerRange(model: monaco.editor.ITextModel, marker: EditorMarker): monaco.IRange {
  let start = 0;
  let length = 1;
  if (marker.location) {
    const tree = parseTree(model.getValue());
    const node = tree ? findNodeAtLocation(tree, marker.location) : undefined;
    // Point at the property name, which is what the rule is usually about.
    const target = node?.parent?.type === 'property' ? node.parent.children?.[0] : node;
    if (target) {
      start = target.offset;
      length = target.length;
    }
  } else if (marker.offset !== undefined) {
    start = marker.offset;
  }
  const from = model.getPositionAt(start);
  const to = model.getPositionAt(start + Math.max(1, length));
  return {
    startLineNumber: from.lineNumber,
    startColumn: from.column,
    endLineNumber: to.lineNumber,
    endColumn: to.column,
  };
}

export interface JsonEditorProps {
  value: string;
  onChange(text: string): void;
  /** Ctrl+S / ⌘S in the editor. */
  onSave?(): void;
  /** Ctrl+Enter / ⌘Enter in the editor. */
  onRun?(): void;
  markers: EditorMarker[];
  dark: boolean;
  ariaLabel: string;
  testId?: string;
  /** A smaller editor (a payload, not a twin). */
  compact?: boolean;
  /** Shown, not editable (the operator may read the document but not change it). */
  readOnly?: boolean;
}

/** The one Monaco JSON editor of the console (twins, method payloads, message bodies). */
export function JsonEditor({
  value,
  onChange,
  onSave,
  onRun,
  markers,
  dark,
  ariaLabel,
  testId = 'twin-json-editor',
  compact = false,
  readOnly = false,
}: JsonEditorProps) {
  const container = useRef<HTMLDivElement>(null);
  const editor = useRef<monaco.editor.IStandaloneCodeEditor | undefined>(undefined);
  const handlers = useRef({ onChange, onSave, onRun });
  handlers.current = { onChange, onSave, onRun };
  // The editor is created once, with the first value; later values are pushed in below.
  const initial = useRef({ value, ariaLabel, readOnly });

  useEffect(() => {
    const { value, ariaLabel, readOnly } = initial.current;
    const instance = monaco.editor.create(container.current!, {
      value,
      language: 'json',
      automaticLayout: true,
      minimap: { enabled: false },
      scrollBeyondLastLine: false,
      // The last line's number at full contrast (WCAG AA), not dimmed.
      renderFinalNewline: 'on',
      fontSize: 13,
      tabSize: 2,
      ariaLabel,
      readOnly,
      fixedOverflowWidgets: true,
      // Monaco's own docs mark the EditContext input path experimental; keep the textarea.
      editContext: false,
    });
    instance.onDidChangeModelContent(() => handlers.current.onChange(instance.getValue()));
    // Per editor, not addCommand: Monaco's commands are global, so with two editors on a
    // page the last one created would take Ctrl+S from the other.
    instance.onKeyDown((event) => {
      if (!(event.ctrlKey || event.metaKey)) return;
      const action =
        event.keyCode === monaco.KeyCode.KeyS
          ? handlers.current.onSave
          : event.keyCode === monaco.KeyCode.Enter
            ? handlers.current.onRun
            : undefined;
      if (event.keyCode !== monaco.KeyCode.KeyS && !action) return;
      // Ctrl+S never opens the browser's save dialog from an editor, and is not seen twice.
      event.preventDefault();
      event.stopPropagation();
      action?.();
    });
    editor.current = instance;
    return () => {
      instance.getModel()?.dispose();
      instance.dispose();
      editor.current = undefined;
    };
  }, []);

  useEffect(() => {
    const instance = editor.current;
    if (!instance || instance.getValue() === value) return;
    // A read-only editor refuses edits: its text is replaced outright (there is no undo).
    if (instance.getOption(monaco.editor.EditorOption.readOnly)) {
      instance.setValue(value);
    } else {
      instance.pushUndoStop();
      instance.executeEdits('twinscope', [
        { range: instance.getModel()!.getFullModelRange(), text: value },
      ]);
      instance.pushUndoStop();
    }
  }, [value]);

  useEffect(() => {
    editor.current?.updateOptions({ readOnly });
  }, [readOnly]);

  useEffect(() => {
    monaco.editor.setTheme(dark ? 'vs-dark' : 'vs');
  }, [dark]);

  // Where each finding is, for the list under the editor (squiggles show where; the list
  // says what, without a mouse: F8 also steps through them in the editor).
  const [problems, setProblems] = useState<{ line: number; column: number; message: string }[]>([]);
  useEffect(() => {
    const model = editor.current?.getModel();
    if (!model) return;
    const placed = markers.map((marker) => ({ range: markerRange(model, marker), marker }));
    monaco.editor.setModelMarkers(
      model,
      'twin-rules',
      placed.map(({ range, marker }) => ({
        ...range,
        message: marker.message,
        severity: monaco.MarkerSeverity.Error,
      })),
    );
    setProblems(
      placed.map(({ range, marker }) => ({
        line: range.startLineNumber,
        column: range.startColumn,
        message: marker.message,
      })),
    );
  }, [markers, value]);

  const goTo = (line: number, column: number) => {
    const instance = editor.current;
    if (!instance) return;
    instance.setPosition({ lineNumber: line, column });
    instance.revealLineInCenter(line);
    instance.focus();
  };

  return (
    <div className="json-editor">
      <div
        ref={container}
        className={compact ? 'monaco-host monaco-compact' : 'monaco-host'}
        data-testid={testId}
      />
      {problems.length > 0 && (
        <ul
          className="editor-problems"
          aria-label="Problems in the JSON"
          data-testid="editor-problems"
        >
          {problems.slice(0, 20).map((problem, index) => (
            <li key={index}>
              <button
                type="button"
                className="editor-problem"
                onClick={() => goTo(problem.line, problem.column)}
              >
                Line {problem.line}: {problem.message}
              </button>
            </li>
          ))}
          {problems.length > 20 && <li className="muted">and {problems.length - 20} more</li>}
        </ul>
      )}
    </div>
  );
}

export interface DiffViewProps {
  original: string;
  modified: string;
  dark: boolean;
}

export function DiffView({ original, modified, dark }: DiffViewProps) {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const diff = monaco.editor.createDiffEditor(container.current!, {
      readOnly: true,
      automaticLayout: true,
      renderSideBySide: true,
      minimap: { enabled: false },
      scrollBeyondLastLine: false,
      renderFinalNewline: 'on',
      originalEditable: false,
    });
    const originalModel = monaco.editor.createModel(original, 'json');
    const modifiedModel = monaco.editor.createModel(modified, 'json');
    diff.setModel({ original: originalModel, modified: modifiedModel });
    monaco.editor.setTheme(dark ? 'vs-dark' : 'vs');
    return () => {
      diff.dispose();
      originalModel.dispose();
      modifiedModel.dispose();
    };
  }, [original, modified, dark]);
  return <div ref={container} className="monaco-diff-host" data-testid="twin-diff" />;
}
