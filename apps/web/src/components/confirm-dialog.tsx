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
import { useState, type ReactNode } from 'react';

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
  return (
    <Dialog open={open} onOpenChange={(_e, data) => !data.open && onCancel()}>
      {/* The dialog mounts its surface only while open: what was typed is gone next time. */}
      <ConfirmSurface {...props} />
    </Dialog>
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
