// The part of ONNX Runtime's C API (OrtApi, a table of function pointers) that ftlab_ort.cc calls,
// declared here by slot number, because onnxruntime-node ships the library without its header.
//
// The table only grows at its end between releases (slots never move), so a slot number read from
// ORT's own ordering (onnxruntime/core/session/onnxruntime_c_api.cc; the C# binding's OrtApi struct
// mirrors it) holds for every release since the API version the addon asks for (kApiVersion). The
// signatures are the C API's documented ones; the types we never look inside stay opaque.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ort {

struct Status; struct Env; struct Session; struct SessionOptions; struct Value; struct MemoryInfo;
struct Allocator; struct IoBinding; struct RunOptions; struct CudaOptions; struct TensorInfo;

// The C API's enums, by value.
enum ElementType : int { kFloat = 1, kUint8 = 2, kInt8 = 3, kInt32 = 6, kInt64 = 7, kBool = 9, kFloat16 = 10, kDouble = 11, kUint32 = 12 };
enum LogLevel : int { kWarning = 2, kFatal = 4 };
enum OptLevel : int { kOptAll = 99 };
enum AllocatorType : int { kDeviceAllocator = 0, kArenaAllocator = 1 };
enum MemType : int { kMemTypeDefault = 0 };

// ORT 1.16; everything below exists since 1.11 (SessionOptionsAppendExecutionProvider_CUDA_V2).
constexpr uint32_t kApiVersion = 16;

struct ApiBase {
  const void* (*GetApi)(uint32_t version);
  const char* (*GetVersionString)();
};
using GetApiBaseFn = const ApiBase* (*)();

// Slot numbers in OrtApi.
enum Slot : int {
  GetErrorMessage = 2, CreateEnv = 3, CreateSessionFromArray = 8,
  CreateSessionOptions = 10, SetOptimizedModelFilePath = 11, SetSessionExecutionMode = 13, EnableProfiling = 14,
  EnableMemPattern = 16, DisableMemPattern = 17, DisableCpuMemArena = 19, SetSessionLogSeverityLevel = 22,
  SetSessionGraphOptimizationLevel = 23, SetIntraOpNumThreads = 24, SetInterOpNumThreads = 25,
  CreateTensorAsOrtValue = 48, CreateTensorWithDataAsOrtValue = 49, GetTensorMutableData = 51,
  GetTensorElementType = 60, GetDimensionsCount = 61, GetDimensions = 62, GetTensorTypeAndShape = 65,
  CreateMemoryInfo = 68, CreateCpuMemoryInfo = 69, AllocatorFree = 76, GetAllocatorWithDefaultOptions = 78,
  ReleaseStatus = 93, ReleaseTensorInfo = 99, ReleaseMemoryInfo = 94, ReleaseSession = 95, ReleaseValue = 96, ReleaseSessionOptions = 100,
  SessionEndProfiling = 110, AddSessionConfigEntry = 130, CreateAllocator = 131, ReleaseAllocator = 132,
  RunWithBinding = 133, CreateIoBinding = 134, ReleaseIoBinding = 135, BindInput = 136, BindOutput = 137,
  BindOutputToDevice = 138, GetBoundOutputNames = 139, GetBoundOutputValues = 140,
  AppendCudaV2 = 204, CreateCudaOptions = 205, UpdateCudaOptions = 206, ReleaseCudaOptions = 208,
};

// Function types per slot.
using GetErrorMessageFn = const char* (*)(const Status*);
using CreateEnvFn = Status* (*)(int level, const char* logid, Env** out);
using CreateSessionFromArrayFn = Status* (*)(const Env*, const void* data, size_t len, const SessionOptions*, Session** out);
using CreateSessionOptionsFn = Status* (*)(SessionOptions** out);
using OptionsStringFn = Status* (*)(SessionOptions*, const char*);  // SetOptimizedModelFilePath, EnableProfiling
using OptionsIntFn = Status* (*)(SessionOptions*, int);            // execution mode, log level, opt level, threads
using OptionsFn = Status* (*)(SessionOptions*);                    // mem pattern, arena
using CreateTensorAsOrtValueFn = Status* (*)(Allocator*, const int64_t* shape, size_t rank, int type, Value** out);
using CreateTensorWithDataFn = Status* (*)(const MemoryInfo*, void* data, size_t bytes, const int64_t* shape, size_t rank, int type, Value** out);
using GetTensorMutableDataFn = Status* (*)(Value*, void** out);
using CreateMemoryInfoFn = Status* (*)(const char* name, int allocator, int id, int memType, MemoryInfo** out);
using CreateCpuMemoryInfoFn = Status* (*)(int allocator, int memType, MemoryInfo** out);
using AllocatorFreeFn = Status* (*)(Allocator*, void*);
using GetAllocatorWithDefaultOptionsFn = Status* (*)(Allocator** out);
template <class T> using ReleaseFn = void (*)(T*);
using SessionEndProfilingFn = Status* (*)(Session*, Allocator*, char** out);
using AddSessionConfigEntryFn = Status* (*)(SessionOptions*, const char* key, const char* value);
using CreateAllocatorFn = Status* (*)(const Session*, const MemoryInfo*, Allocator** out);
using RunWithBindingFn = Status* (*)(Session*, const RunOptions*, const IoBinding*);
using CreateIoBindingFn = Status* (*)(Session*, IoBinding** out);
using BindFn = Status* (*)(IoBinding*, const char* name, const Value*);
using BindToDeviceFn = Status* (*)(IoBinding*, const char* name, const MemoryInfo*);
using GetBoundOutputNamesFn = Status* (*)(const IoBinding*, Allocator*, char** names, size_t** lengths, size_t* count);
using GetBoundOutputValuesFn = Status* (*)(const IoBinding*, Allocator*, Value*** values, size_t* count);
using GetTensorTypeAndShapeFn = Status* (*)(const Value*, TensorInfo** out);
using GetTensorElementTypeFn = Status* (*)(const TensorInfo*, int* out);
using GetDimensionsCountFn = Status* (*)(const TensorInfo*, size_t* out);
using GetDimensionsFn = Status* (*)(const TensorInfo*, int64_t* dims, size_t n);
using AppendCudaV2Fn = Status* (*)(SessionOptions*, const CudaOptions*);
using CreateCudaOptionsFn = Status* (*)(CudaOptions** out);
using UpdateCudaOptionsFn = Status* (*)(CudaOptions*, const char* const* keys, const char* const* values, size_t n);

}  // namespace ort
