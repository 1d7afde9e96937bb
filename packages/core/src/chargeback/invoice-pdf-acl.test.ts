import { describe, expect, it } from 'vitest';
import { billPdf } from './invoice-pdf';
import { billDoc, billLine, readRecordedPdf, recordingPdfRenderer } from './invoice-pdf.testing';

describe('bill PDF with metered address classes', () => {
  it('labels class lines by direction and class, beside the fixed ones', () => {
    const doc = billDoc({
      lines: [
        billLine('v1', 'web-01', '0.04'),
        {
          ...billLine('v1', 'web-01', '0.50'),
          resource: 'network-out:storage',
          unit: 'GiB',
          quantity: '2',
          rate: '0.25',
        },
        { ...billLine('v1', 'web-01', '0.00'), resource: 'network-in:backup', unit: 'GiB', quantity: '1', rate: '0' },
      ],
    });
    const text = readRecordedPdf(billPdf(recordingPdfRenderer, [doc], 'Bill')).texts.join('\n');
    expect(text).toContain('Network out, storage');
    expect(text).toContain('Network in, backup');
    expect(text).not.toContain('network-out:storage');
  });
});
