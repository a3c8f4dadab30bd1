import { version as packageVersion } from '../../../package.json';
import { UsageError, type CliCommand } from '../command';

export const version: CliCommand = {
  name: 'version',
  summary: 'Print the versions of ftlab, ONNX Runtime and Node.js',
  usage: 'Usage: ftlab version',
  async run(argv) {
    if (argv.length > 0) throw new UsageError(`unexpected argument '${argv[0]}'`);
    console.log(`ftlab ${packageVersion}`);
    // Loading the package loads its native library: a version printed here is one that runs.
    try {
      const ort = await import('onnxruntime-node');
      console.log(`onnxruntime-node ${ort.env.versions.node ?? 'unknown'}`);
    } catch (error) {
      console.log(`onnxruntime-node: cannot be loaded (${error instanceof Error ? error.message : String(error)})`);
      console.log('  Reinstall it (npm ci) on this platform; its native library ships for linux/darwin/win32 x64 and arm64.');
      return 1;
    }
    console.log(`node ${process.version} (${process.platform}-${process.arch})`);
    return 0;
  },
};
