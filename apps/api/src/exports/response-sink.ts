import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { BILL_CONTENT_TYPES } from '@fabric/core/chargeback/bill-export';
import type { ExportSink } from '@fabric/core/chargeback/export-sink';

/** An export written to an HTTP response as a download; headers go out with the first byte. */
export function responseSink(res: ServerResponse): ExportSink {
  return {
    open({ name, format }) {
      res.writeHead(200, {
        'content-type': BILL_CONTENT_TYPES[format],
        'content-disposition': `attachment; filename="${name}.${format}"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
    },
    write(chunk) {
      res.write(chunk);
    },
    async drained() {
      if (res.writableNeedDrain) await once(res, 'drain');
    },
  };
}
