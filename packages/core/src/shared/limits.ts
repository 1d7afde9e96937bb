/**
 * Scale limits of Windows Server 2012 Hyper-V (the whitepaper, "Scale up"),
 * the defaults Fabric validates against.
 */
export const HYPERV_LIMITS = {
  hostsPerCluster: 64,
  vmsPerCluster: 4000,
  logicalProcessorsPerHost: 320,
  memoryMiBPerHost: 4 * 1024 * 1024, // 4 TB
  vcpusPerVm: 64,
  memoryMiBPerVm: 1024 * 1024, // 1 TB
  vmsPerHost: 1024,
} as const;
