// The namespace LAN laboratory (tests, benchmarks and the demo share it).
export * from './lan.js';
export * from './pcap.js';
export * from './vrrp-config.js';
export * from './probe.js';
export * from './one-director.js';
export * from './etcd-cluster.js';
