'use client';

import { Check, Copy } from 'lucide-react';
import { useEffect, useState } from 'react';
import { cn } from '@/lib/cn';

async function writeClipboard(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain-http consoles (a lab datacenter) have no async clipboard API.
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}

export function CopyButton({ value, label, className }: { value: string; label: string; className?: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(false), 1500);
    return () => clearTimeout(t);
  }, [copied]);
  return (
    <button
      type="button"
      aria-label={copied ? `${label}: copied` : label}
      title={label}
      onClick={() => {
        void writeClipboard(value).then(() => setCopied(true));
      }}
      className={cn(
        'inline-flex size-7 shrink-0 items-center justify-center rounded-md border border-border-strong bg-surface text-muted hover:bg-surface-hover hover:text-fg',
        className,
      )}
    >
      {copied ? (
        <Check className="size-3.5 text-emerald-500" aria-hidden="true" />
      ) : (
        <Copy className="size-3.5" aria-hidden="true" />
      )}
    </button>
  );
}

/** A read-only value in monospace with a copy button beside it. */
export function CopyField({ value, label, wrap = false }: { value: string; label: string; wrap?: boolean }) {
  return (
    <div className="flex items-start gap-2 rounded-md border border-border bg-surface-2 p-2">
      <code
        className={cn(
          'min-w-0 flex-1 px-1 py-1 font-mono text-[12px] leading-relaxed text-fg',
          wrap ? 'whitespace-pre-wrap [overflow-wrap:anywhere]' : 'truncate',
        )}
      >
        {value}
      </code>
      <CopyButton value={value} label={`Copy ${label.toLowerCase()}`} />
    </div>
  );
}
