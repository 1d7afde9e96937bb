import { describe, expect, it } from 'vitest';
import { databaseValueErrorCode } from './error-map';

/** What pg's DatabaseError carries (SQLSTATE in `code`, with a severity). */
function pgError(code: string) {
  return Object.assign(new Error('postgres said no'), { code, severity: 'ERROR' });
}

describe('databaseValueErrorCode', () => {
  it.each(['22021', '22P05', '22008', '22003', '22001', '22P02', '54000'])('recognises pg SQLSTATE %s', (state) => {
    expect(databaseValueErrorCode(pgError(state))).toBe(state);
  });

  it("finds the SQLSTATE through Prisma's adapter wrapping (meta.driverAdapterError → cause.originalCode)", () => {
    const adapterError = Object.assign(new Error('DriverAdapterError'), {
      cause: { kind: 'postgres', code: '22021', originalCode: '22021', severity: 'ERROR' },
    });
    const prismaError = Object.assign(new Error('Invalid prisma.vm.findMany() invocation'), {
      code: 'P2010',
      meta: { driverAdapterError: adapterError },
    });
    expect(databaseValueErrorCode(prismaError)).toBe('22021');
    expect(databaseValueErrorCode(new Error('wrapped', { cause: prismaError }))).toBe('22021');
  });

  it("recognises Prisma's own value codes", () => {
    expect(databaseValueErrorCode(Object.assign(new Error('too long'), { code: 'P2000' }))).toBe('P2000');
  });

  it('leaves everything else an internal error', () => {
    expect(databaseValueErrorCode(pgError('40001'))).toBeNull();
    expect(databaseValueErrorCode(pgError('23505'))).toBeNull();
    expect(databaseValueErrorCode(Object.assign(new Error('unique'), { code: 'P2002' }))).toBeNull();
    // A plain object with a SQLSTATE-like code but no severity is not a database error.
    expect(databaseValueErrorCode({ code: '22021' })).toBeNull();
    expect(databaseValueErrorCode(new Error('boom'))).toBeNull();
    expect(databaseValueErrorCode(undefined)).toBeNull();
  });

  it('stops on a cause cycle', () => {
    const a: { cause?: unknown } = {};
    const b = { cause: a };
    a.cause = b;
    expect(databaseValueErrorCode(a)).toBeNull();
  });
});
