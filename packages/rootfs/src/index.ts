export { busyboxRootfs, findBusybox, isStaticElf, BUSYBOX_PATHS } from './busybox.ts';
