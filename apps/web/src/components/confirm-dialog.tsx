import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Spinner,
} from '@fluentui/react-components';
import { useEffect, useRef, useState, type ReactNode } from 'react';

export interface ConfirmDialogProps {
  open: boolean;
  title: ReactNode;
  /** What will happen, in the operator's words. */
  children?: ReactNode;
  /** The confirming button's label: the action itself ("Delete sensor-1"), never "OK". */
  confirmLabel: string;
  /** When set, the operator types this (a device or module id) before confirming. */
  typeToConfirm?: string;
  /** The action is running: the button waits and the dialog stays open. */
  pending?: boolean;
  /** Why the last attempt failed; shown in the dialog, which stays open. */
  error?: Error | null;
  onConfirm(): void;
  onCancel(): void;
  testId?: string;
}

/**
 * Every destructive action goes through this dialog: a title that names the target, what
 * will happen, optionally the id typed out, the error of a failed attempt, and a button that
 * says what it does.
 */
export function ConfirmDialog(props: ConfirmDialogProps) {
  const { open, onCancel } = props;
  useRestoreAfterAbruptClose(open);
  return (
    <Dialog open={open} onOpenChange={(_e, data) => !data.open && onCancel()}>
      {/* The dialog mounts its surface only while open: what was typed is gone next time. */}
      <ConfirmSurface {...props} />
    </Dialog>
  );
}

/**
 * A confirmed action often takes its page away with the dialog still open (a deleted
 * enrollment's page goes back to the list). The modal hid the rest of the console from
 * assistive technology and undoes that only as it closes; gone while open, it never does,
 * and the next page would be invisible to a screen reader. So what the dialog hid (the
 * page's top-level elements that were not hidden before it opened) is shown again when it
 * goes while open and no other dialog is up, and focus is put on the page's main region
 * rather than lost on the body.
 */
function useRestoreAfterAbruptClose(open: boolean): void {
  const hiddenBefore = useRef<Set<Element> | undefined>(undefined);
  if (open && !hiddenBefore.current)
    hiddenBefore.current = new Set(document.querySelectorAll('body > [aria-hidden="true"]'));
  if (!open) hiddenBefore.current = undefined;
  useEffect(
    () => () => {
      const before = hiddenBefore.current;
      if (!before) return;
      setTimeout(() => {
        if (document.querySelector('[role="dialog"], [role="alertdialog"]')) return;
        for (const hidden of document.querySelectorAll('body > [aria-hidden="true"]'))
          if (!before.has(hidden)) hidden.removeAttribute('aria-hidden');
        const main = document.querySelector<HTMLElement>('main');
        if (!main || main.contains(document.activeElement)) return;
        main.tabIndex = -1;
        main.addEventListener('blur', () => main.removeAttribute('tabindex'), { once: true });
        main.focus({ preventScroll: true });
      }, 0);
    },
    [],
  );
}

function ConfirmSurface({
  title,
  children,
  confirmLabel,
  typeToConfirm,
  pending = false,
  error,
  onConfirm,
  onCancel,
  testId,
}: ConfirmDialogProps) {
  const [typed, setTyped] = useState('');
  const matches = typeToConfirm === undefined || typed === typeToConfirm;
  return (
    <DialogSurface data-testid={testId}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (matches && !pending) onConfirm();
        }}
      >
        <DialogBody>
          <DialogTitle>{title}</DialogTitle>
          <DialogContent className="form-grid">
            {children}
            {typeToConfirm !== undefined && (
              <Field label={`Type ${typeToConfirm} to confirm`}>
                <Input
                  value={typed}
                  onChange={(_e, data) => setTyped(data.value)}
                  aria-label="Type the id to confirm"
                  autoComplete="off"
                />
              </Field>
            )}
            {error && (
              <MessageBar intent="error" data-testid="confirm-error">
                <MessageBarBody>{error.message}</MessageBarBody>
              </MessageBar>
            )}
          </DialogContent>
          <DialogActions>
            <Button onClick={onCancel}>Cancel</Button>
            <Button appearance="primary" type="submit" disabled={!matches || pending}>
              {pending ? <Spinner size="tiny" /> : confirmLabel}
            </Button>
          </DialogActions>
        </DialogBody>
      </form>
    </DialogSurface>
  );
}
