import { randomUUID } from 'node:crypto';
import type { Delivery, Message, Sender } from 'rhea';
import type { LinkHandlers } from './links.ts';
import { uuidBytes } from './messages.ts';

/** What a service-bound link sends: items from a queue, each held until the service settles it. */
export interface ServiceBoundQueue<T> {
  /** The next item, now held for this link; undefined when none is waiting. */
  take(): T | undefined;
  message(item: T): Message;
  /** Completed (accepted) or rejected by the service: gone. */
  done(item: T): void;
  /** Abandoned (released, modified), or its link closed first: offered again. */
  release(item: T): void;
  /** Calls `pump` when items may be waiting; answers how to stop. */
  onAvailable(pump: () => void): () => void;
}

/**
 * A server sender that hands the service what waits for it (C2D feedback, file
 * notifications), as IoT Hub does: sent unsettled, held until the service completes or
 * rejects it, offered again when it abandons it or its link closes.
 */
export function serviceBoundSender<T>(sender: Sender, queue: ServiceBoundQueue<T>): LinkHandlers {
  const inFlight = new Map<Delivery, T>();
  const pump = () => {
    while (sender.is_open() && sender.sendable()) {
      const item = queue.take();
      if (item === undefined) return;
      // A delivery tag of 16 bytes, as C# reads one (a GUID).
      inFlight.set(sender.send(queue.message(item), uuidBytes(randomUUID())), item);
    }
  };
  const stop = queue.onAvailable(pump);
  pump();
  return {
    sendable: pump,
    settled(outcome, context) {
      const item = context.delivery ? inFlight.get(context.delivery) : undefined;
      if (item === undefined) return;
      inFlight.delete(context.delivery!);
      if (outcome === 'accepted' || outcome === 'rejected') queue.done(item);
      else {
        queue.release(item);
        pump();
      }
    },
    closed() {
      stop();
      for (const item of inFlight.values()) queue.release(item);
      inFlight.clear();
    },
  };
}
