/** Device presets for `advise --device`: memory and what the device runs (public spec sheets). */
import type { Target } from './advise.js';

export interface Device {
  id: string;
  name: string;
  target: Target;
  /** System RAM (bytes). */
  ram: number;
  /** Dedicated GPU memory (bytes), or unified memory usable by the GPU. */
  vram?: number;
  unified?: boolean;
  /** Operating system, when it decides the runtime (Core ML on iOS). */
  os?: 'ios' | 'android' | 'macos' | 'linux' | 'windows' | 'rtos';
  source: string;
}

const GiB = 1024 ** 3;

export const DEVICES: Device[] = [
  { id: 'rtx-4090', name: 'NVIDIA GeForce RTX 4090', target: 'gpu', ram: 64 * GiB, vram: 24 * GiB, source: 'https://www.nvidia.com/en-us/geforce/graphics-cards/40-series/rtx-4090/' },
  { id: 'rtx-4060', name: 'NVIDIA GeForce RTX 4060', target: 'gpu', ram: 32 * GiB, vram: 8 * GiB, source: 'https://www.nvidia.com/en-us/geforce/graphics-cards/40-series/rtx-4060-4060ti/' },
  { id: 'rtx-3090', name: 'NVIDIA GeForce RTX 3090', target: 'gpu', ram: 64 * GiB, vram: 24 * GiB, source: 'https://www.nvidia.com/en-us/geforce/graphics-cards/30-series/rtx-3090-3090ti/' },
  { id: 'a100-80gb', name: 'NVIDIA A100 80GB', target: 'server', ram: 512 * GiB, vram: 80 * GiB, source: 'https://www.nvidia.com/en-us/data-center/a100/' },
  { id: 'h100', name: 'NVIDIA H100 80GB', target: 'server', ram: 1024 * GiB, vram: 80 * GiB, source: 'https://www.nvidia.com/en-us/data-center/h100/' },
  { id: 'l4', name: 'NVIDIA L4', target: 'server', ram: 128 * GiB, vram: 24 * GiB, source: 'https://www.nvidia.com/en-us/data-center/l4/' },
  { id: 'macbook-air-m2-8gb', name: 'MacBook Air M2 8 GB', target: 'apple', ram: 8 * GiB, vram: 8 * GiB, unified: true, os: 'macos', source: 'https://support.apple.com/kb/SP869' },
  { id: 'macbook-pro-m3-max-36gb', name: 'MacBook Pro M3 Max 36 GB', target: 'apple', ram: 36 * GiB, vram: 36 * GiB, unified: true, os: 'macos', source: 'https://support.apple.com/en-us/117736' },
  { id: 'mac-studio-m2-ultra-192gb', name: 'Mac Studio M2 Ultra 192 GB', target: 'apple', ram: 192 * GiB, vram: 192 * GiB, unified: true, os: 'macos', source: 'https://support.apple.com/kb/SP891' },
  { id: 'iphone-15', name: 'iPhone 15', target: 'mobile', ram: 6 * GiB, os: 'ios', source: 'https://support.apple.com/kb/SP901' },
  { id: 'iphone-15-pro', name: 'iPhone 15 Pro', target: 'mobile', ram: 8 * GiB, os: 'ios', source: 'https://support.apple.com/kb/SP903' },
  { id: 'pixel-8', name: 'Google Pixel 8', target: 'mobile', ram: 8 * GiB, os: 'android', source: 'https://store.google.com/product/pixel_8_specs' },
  { id: 'galaxy-s24', name: 'Samsung Galaxy S24', target: 'mobile', ram: 8 * GiB, os: 'android', source: 'https://www.samsung.com/global/galaxy/galaxy-s24/specs/' },
  { id: 'raspberry-pi-5', name: 'Raspberry Pi 5 (8 GB)', target: 'edge', ram: 8 * GiB, os: 'linux', source: 'https://www.raspberrypi.com/products/raspberry-pi-5/' },
  { id: 'jetson-orin-nano', name: 'NVIDIA Jetson Orin Nano 8 GB', target: 'edge', ram: 8 * GiB, vram: 8 * GiB, unified: true, os: 'linux', source: 'https://developer.nvidia.com/embedded/jetson-orin-nano-developer-kit' },
  { id: 'esp32-s3', name: 'ESP32-S3 (8 MB PSRAM)', target: 'edge', ram: 8 * 1024 * 1024, os: 'rtos', source: 'https://www.espressif.com/en/products/socs/esp32-s3' },
  { id: 'laptop-16gb', name: 'CPU laptop, 16 GB', target: 'cpu', ram: 16 * GiB, source: 'typical' },
  { id: 'browser-webgpu', name: 'Browser with WebGPU (4 GB budget)', target: 'browser', ram: 4 * GiB, vram: 4 * GiB, source: 'https://developer.chrome.com/docs/web-platform/webgpu' },
];

export function deviceById(id: string): Device | undefined {
  return DEVICES.find((d) => d.id === id.toLowerCase());
}
