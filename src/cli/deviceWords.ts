// The CLI's words for the fixes of a CudaUnavailableError: its flags and commands.
import type { DeviceWords } from '../engine';

export const CLI_DEVICE_WORDS: DeviceWords = { useCpu: '--device cpu (or --device auto)', setupCuda: 'ftlab setup-cuda', doctor: 'ftlab doctor' };
