// The image store nsk uses: @nsk/rootfs's default (/var/lib/nsk as root,
// else under XDG_DATA_HOME), or NSK_STORE_DIR.
import type { ImageStore } from '@nsk/rootfs';

export async function imageStore(): Promise<ImageStore> {
  const { ImageStore } = await import('@nsk/rootfs');
  const root = process.env.NSK_STORE_DIR;
  return new ImageStore(root ? { root } : {});
}
