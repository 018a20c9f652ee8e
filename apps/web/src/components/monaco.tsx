// The only module that imports Monaco. It is loaded lazily, and Monaco comes from this
// bundle with its workers (same-origin files): operators on closed networks have no CDN.
// Only what the console uses is bundled: the editor API, the JSON language and its worker,
// and the contributions listed here (`monaco-editor` itself would pull in ~80 languages,
// the TypeScript, CSS and HTML workers and every editor feature).
import * as monaco from 'monaco-editor/editor/editor.api.js';
import 'monaco-editor/languages/features/json/register.js';
import 'monaco-editor/editor/browser/coreCommands.js';
import 'monaco-editor/editor/contrib/bracketMatching/browser/bracketMatching.js';
import 'monaco-editor/editor/contrib/clipboard/browser/clipboard.js';
import 'monaco-editor/editor/contrib/comment/browser/comment.js';
import 'monaco-editor/editor/contrib/contextmenu/browser/contextmenu.js';
import 'monaco-editor/editor/contrib/find/browser/findController.js';
import 'monaco-editor/editor/contrib/folding/browser/folding.js';
import 'monaco-editor/editor/contrib/gotoError/browser/gotoError.js';
import 'monaco-editor/editor/contrib/hover/browser/hoverContribution.js';
import 'monaco-editor/editor/contrib/suggest/browser/suggestController.js';
import 'monaco-editor/editor/contrib/wordHighlighter/browser/wordHighlighter.js';
import 'monaco-editor/editor/standalone/browser/quickAccess/standaloneCommandsQuickAccess.js';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import JsonWorker from 'monaco-editor/languages/features/json/json.worker?worker';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import { useEffect, useRef } from 'react';

self.MonacoEnvironment = {
  getWorker: (_id: string, label: string) =>
    label === 'json' ? new JsonWorker() : new EditorWorker(),
};

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
}: JsonEditorProps) {
  const container = useRef<HTMLDivElement>(null);
  const editor = useRef<monaco.editor.IStandaloneCodeEditor | undefined>(undefined);
  const handlers = useRef({ onChange, onSave, onRun });
  handlers.current = { onChange, onSave, onRun };
  // The editor is created once, with the first value; later values are pushed in below.
  const initial = useRef({ value, ariaLabel });

  useEffect(() => {
    const { value, ariaLabel } = initial.current;
    const instance = monaco.editor.create(container.current!, {
      value,
      language: 'json',
      automaticLayout: true,
      minimap: { enabled: false },
      scrollBeyondLastLine: false,
      fontSize: 13,
      tabSize: 2,
      ariaLabel,
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
    if (instance && instance.getValue() !== value) {
      instance.pushUndoStop();
      instance.executeEdits('twinscope', [
        { range: instance.getModel()!.getFullModelRange(), text: value },
      ]);
      instance.pushUndoStop();
    }
  }, [value]);

  useEffect(() => {
    monaco.editor.setTheme(dark ? 'vs-dark' : 'vs');
  }, [dark]);

  useEffect(() => {
    const model = editor.current?.getModel();
    if (!model) return;
    monaco.editor.setModelMarkers(
      model,
      'twin-rules',
      markers.map((marker) => ({
        ...markerRange(model, marker),
        message: marker.message,
        severity: monaco.MarkerSeverity.Error,
      })),
    );
  }, [markers, value]);

  return (
    <div
      ref={container}
      className={compact ? 'monaco-host monaco-compact' : 'monaco-host'}
      data-testid={testId}
    />
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
