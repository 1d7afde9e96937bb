import Link from 'next/link';
import { FabricMark } from '@/components/brand';
import { buttonClass } from '@/components/ui/button';

export default function NotFound() {
  return (
    <main className="flex min-h-dvh flex-col items-center justify-center px-4 text-center">
      <FabricMark className="size-8" />
      <h1 className="mt-4 text-[18px] font-semibold">Page not found</h1>
      <p className="mt-1 text-[13px] text-muted">The address may be mistyped, or the page has moved.</p>
      <Link href="/" className={buttonClass('secondary', 'md', 'mt-5')}>
        Go to the console
      </Link>
    </main>
  );
}
