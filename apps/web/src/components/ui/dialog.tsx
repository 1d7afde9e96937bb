'use client';

import { X } from 'lucide-react';
import { type ReactNode, useEffect, useId, useRef } from 'react';
import { cn } from '@/lib/cn';

/*
 * Built on the native <dialog> opened with showModal(): the browser makes the
 * rest of the page inert (focus stays inside), closes it on Escape and
 * returns focus to the opener, with no focus-trap library.
 */
export function Dialog({
  open,
  onClose,
  title,
  description,
  children,
  footer,
  size = 'md',
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  description?: ReactNode;
  children?: ReactNode;
  footer?: ReactNode;
  size?: 'sm' | 'md' | 'lg';
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descriptionId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: the click closes on the backdrop (a mouse shortcut); Escape closes natively through onCancel
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      aria-describedby={description ? descriptionId : undefined}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      onClick={(event) => {
        // A click on the backdrop lands on the <dialog> element itself.
        if (event.target === ref.current) onClose();
      }}
      className={cn(
        'm-auto w-[calc(100%-2rem)] rounded-xl border border-border bg-surface p-0 text-fg shadow-2xl',
        'backdrop:bg-black/40 backdrop:backdrop-blur-[1px]',
        size === 'sm' && 'max-w-sm',
        size === 'md' && 'max-w-md',
        size === 'lg' && 'max-w-xl',
      )}
    >
      {open ? (
        <div className="flex max-h-[85vh] flex-col">
          <div className="flex items-start justify-between gap-4 px-5 pt-4 pb-3">
            <div>
              <h2 id={titleId} className="text-[14px] font-semibold">
                {title}
              </h2>
              {description ? (
                <p id={descriptionId} className="mt-1 text-[12.5px] text-muted">
                  {description}
                </p>
              ) : null}
            </div>
            <button
              type="button"
              onClick={onClose}
              aria-label="Close"
              className="-mr-1.5 rounded-md p-1 text-muted hover:bg-surface-hover hover:text-fg"
            >
              <X className="size-4" aria-hidden="true" />
            </button>
          </div>
          <div className="overflow-y-auto px-5 pb-4">{children}</div>
          {footer ? (
            <div className="flex items-center justify-end gap-2 border-t border-border bg-surface-2/60 px-5 py-3 rounded-b-xl">
              {footer}
            </div>
          ) : null}
        </div>
      ) : null}
    </dialog>
  );
}
