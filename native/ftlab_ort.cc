// ftlab_ort: ONNX Runtime sessions run through an IO binding, for the training step.
//
// onnxruntime-node copies every output of a run into a new JS array (and its IO binding serves WebGPU
// buffers only), so a training step that returns the parameters and both AdamW moments pays three
// parameter-sized copies per run and keeps them alive until V8 collects them. Here the caller binds
// its own typed arrays as inputs and outputs (ORT reads and writes them in place, no copy), or tensors
// that stay in a device's memory between runs (CUDA), and a run returns nothing but a promise.
//
// The library is the libonnxruntime.so.1 that onnxruntime-node loads (init() takes its path and
// dlopens it: the same ORT in the process), reached through OrtGetApiBase. Native code stays this
// thin: which arrays to bind where, and whether an output may alias its input, is decided in
// TypeScript (src/engine/runtime/boundSession.ts).

#include <dlfcn.h>
#include <cstring>

// glibc 2.34 moved dlopen into libc under a new symbol version; bind the old one (still exported) so
// the addon built here loads on any glibc onnxruntime-node itself loads on (2.28).
#if defined(__x86_64__) && defined(__GLIBC__)
__asm__(".symver dlopen,dlopen@GLIBC_2.2.5");
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
__asm__(".symver dlerror,dlerror@GLIBC_2.2.5");
#endif
#include <map>
#include <memory>
#include <string>
#include <vector>

#define NAPI_VERSION 8
#include <napi.h>

#include "ort_api.h"

namespace {

const void* const* g_api = nullptr;  // OrtApi as a table of function pointers
ort::Env* g_env = nullptr;
std::string g_version;

template <class F> F fn(ort::Slot s) { return reinterpret_cast<F>(g_api[s]); }

// Throws the ORT error (a C++ exception; node-addon-api turns it into a JS Error where needed).
void check(ort::Status* st, const char* what) {
  if (!st) return;
  std::string msg = std::string(what) + ": " + fn<ort::GetErrorMessageFn>(ort::GetErrorMessage)(st);
  fn<ort::ReleaseFn<ort::Status>>(ort::ReleaseStatus)(st);
  throw std::runtime_error(msg);
}

int elementType(const std::string& t) {
  static const std::map<std::string, int> types = {
      {"float32", ort::kFloat}, {"float64", ort::kDouble}, {"float16", ort::kFloat16}, {"int64", ort::kInt64},
      {"int32", ort::kInt32}, {"uint32", ort::kUint32}, {"bool", ort::kBool}, {"uint8", ort::kUint8}, {"int8", ort::kInt8}};
  auto it = types.find(t);
  if (it == types.end()) throw std::runtime_error("unsupported tensor type '" + t + "'");
  return it->second;
}

size_t elementBytes(int type) {
  switch (type) {
    case ort::kDouble: case ort::kInt64: return 8;
    case ort::kFloat: case ort::kInt32: case ort::kUint32: return 4;
    case ort::kFloat16: return 2;
    default: return 1;
  }
}

std::vector<int64_t> shapeOf(const Napi::Value& v) {
  if (!v.IsArray()) throw std::runtime_error("shape must be an array of integers");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> shape(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) shape[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return shape;
}

struct ValueDeleter { void operator()(ort::Value* v) const { if (v) fn<ort::ReleaseFn<ort::Value>>(ort::ReleaseValue)(v); } };
using ValuePtr = std::unique_ptr<ort::Value, ValueDeleter>;

// A tensor over memory the caller owns (a JS typed array, kept alive by the reference) or over
// memory ORT allocated on the session's device (kept until released).
struct Bound {
  ValuePtr value;
  Napi::ObjectReference array;  // empty for device tensors
};

class Session;
// Device tensors by id, shared by the sessions of a process (a training step and the session that
// copies its state back to the host bind the same tensors); each is freed with the session whose
// allocator made it, or by releaseTensor.
std::map<uint32_t, std::pair<Session*, ValuePtr>> g_tensors;
uint32_t g_nextTensor = 1;

class Session : public Napi::ObjectWrap<Session> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Session", {
        InstanceMethod("bindInput", &Session::BindInput), InstanceMethod("bindOutput", &Session::BindOutput),
        InstanceMethod("deviceTensor", &Session::DeviceTensor), InstanceMethod("bindInputTensor", &Session::BindInputTensor),
        InstanceMethod("bindOutputTensor", &Session::BindOutputTensor), InstanceMethod("bindOutputToCpu", &Session::BindOutputToCpu), InstanceMethod("releaseTensor", &Session::ReleaseTensor),
        InstanceMethod("run", &Session::Run), InstanceMethod("endProfiling", &Session::EndProfiling),
        InstanceMethod("release", &Session::Release)});
  }

  // new Session(model: Uint8Array, options: { threads?, interThreads?, logLevel?, memPattern?, arena?,
  //   profilePrefix?, optimizedModelPath?, config?: {key: value}, cuda?: {options: {key: value}} })
  explicit Session(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Session>(info) {
    if (!g_api) throw Napi::Error::New(info.Env(), "ftlab_ort: init() was not called");
    Napi::Uint8Array model = info[0].As<Napi::Uint8Array>();
    Napi::Object o = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
    ort::SessionOptions* so = nullptr;
    try {
      check(fn<ort::CreateSessionOptionsFn>(ort::CreateSessionOptions)(&so), "CreateSessionOptions");
      check(fn<ort::OptionsIntFn>(ort::SetSessionGraphOptimizationLevel)(so, ort::kOptAll), "SetSessionGraphOptimizationLevel");
      check(fn<ort::OptionsIntFn>(ort::SetSessionExecutionMode)(so, 0 /* sequential */), "SetSessionExecutionMode");
      int logLevel = o.Has("logLevel") ? o.Get("logLevel").As<Napi::Number>().Int32Value() : ort::kFatal;
      check(fn<ort::OptionsIntFn>(ort::SetSessionLogSeverityLevel)(so, logLevel), "SetSessionLogSeverityLevel");
      if (o.Has("threads")) check(fn<ort::OptionsIntFn>(ort::SetIntraOpNumThreads)(so, o.Get("threads").As<Napi::Number>().Int32Value()), "SetIntraOpNumThreads");
      if (o.Has("interThreads")) check(fn<ort::OptionsIntFn>(ort::SetInterOpNumThreads)(so, o.Get("interThreads").As<Napi::Number>().Int32Value()), "SetInterOpNumThreads");
      bool memPattern = o.Has("memPattern") && o.Get("memPattern").ToBoolean();
      check(fn<ort::OptionsFn>(memPattern ? ort::EnableMemPattern : ort::DisableMemPattern)(so), "mem pattern");
      if (o.Has("arena") && !o.Get("arena").ToBoolean()) check(fn<ort::OptionsFn>(ort::DisableCpuMemArena)(so), "DisableCpuMemArena");
      if (o.Has("profilePrefix")) check(fn<ort::OptionsStringFn>(ort::EnableProfiling)(so, o.Get("profilePrefix").As<Napi::String>().Utf8Value().c_str()), "EnableProfiling");
      if (o.Has("optimizedModelPath")) check(fn<ort::OptionsStringFn>(ort::SetOptimizedModelFilePath)(so, o.Get("optimizedModelPath").As<Napi::String>().Utf8Value().c_str()), "SetOptimizedModelFilePath");
      if (o.Has("config")) {
        Napi::Object c = o.Get("config").As<Napi::Object>();
        Napi::Array keys = c.GetPropertyNames();
        for (uint32_t i = 0; i < keys.Length(); i++) {
          std::string k = keys.Get(i).As<Napi::String>().Utf8Value(), v = c.Get(k).ToString().Utf8Value();
          check(fn<ort::AddSessionConfigEntryFn>(ort::AddSessionConfigEntry)(so, k.c_str(), v.c_str()), "AddSessionConfigEntry");
        }
      }
      if (o.Has("cuda")) {
        cuda_ = true;
        ort::CudaOptions* co = nullptr;
        check(fn<ort::CreateCudaOptionsFn>(ort::CreateCudaOptions)(&co), "CreateCUDAProviderOptions");
        std::unique_ptr<ort::CudaOptions, void (*)(ort::CudaOptions*)> guard(co, fn<ort::ReleaseFn<ort::CudaOptions>>(ort::ReleaseCudaOptions));
        Napi::Object c = o.Get("cuda").As<Napi::Object>();
        Napi::Object opts = c.Has("options") ? c.Get("options").As<Napi::Object>() : Napi::Object::New(info.Env());
        Napi::Array keys = opts.GetPropertyNames();
        std::vector<std::string> ks, vs;
        for (uint32_t i = 0; i < keys.Length(); i++) {
          ks.push_back(keys.Get(i).As<Napi::String>().Utf8Value());
          vs.push_back(opts.Get(ks.back()).ToString().Utf8Value());
          if (ks.back() == "device_id") deviceId_ = std::stoi(vs.back());
        }
        std::vector<const char*> kp, vp;
        for (size_t i = 0; i < ks.size(); i++) { kp.push_back(ks[i].c_str()); vp.push_back(vs[i].c_str()); }
        check(fn<ort::UpdateCudaOptionsFn>(ort::UpdateCudaOptions)(co, kp.data(), vp.data(), kp.size()), "UpdateCUDAProviderOptions");
        check(fn<ort::AppendCudaV2Fn>(ort::AppendCudaV2)(so, co), "SessionOptionsAppendExecutionProvider_CUDA_V2");
      }
      check(fn<ort::CreateSessionFromArrayFn>(ort::CreateSessionFromArray)(g_env, model.Data(), model.ByteLength(), so, &session_), "CreateSession");
      check(fn<ort::CreateIoBindingFn>(ort::CreateIoBinding)(session_, &binding_), "CreateIoBinding");
      check(fn<ort::CreateCpuMemoryInfoFn>(ort::CreateCpuMemoryInfo)(ort::kDeviceAllocator, ort::kMemTypeDefault, &cpu_), "CreateCpuMemoryInfo");
      ort::MemoryInfo* dev = nullptr;
      if (cuda_) check(fn<ort::CreateMemoryInfoFn>(ort::CreateMemoryInfo)("Cuda", ort::kArenaAllocator, deviceId_, ort::kMemTypeDefault, &dev), "CreateMemoryInfo(Cuda)");
      else check(fn<ort::CreateCpuMemoryInfoFn>(ort::CreateCpuMemoryInfo)(ort::kArenaAllocator, ort::kMemTypeDefault, &dev), "CreateCpuMemoryInfo");
      device_ = dev;
    } catch (const std::exception& e) {
      if (so) fn<ort::ReleaseFn<ort::SessionOptions>>(ort::ReleaseSessionOptions)(so);
      Free();
      throw Napi::Error::New(info.Env(), e.what());
    }
    fn<ort::ReleaseFn<ort::SessionOptions>>(ort::ReleaseSessionOptions)(so);
  }

  ~Session() { Free(); }

 private:
  ort::Session* session_ = nullptr;
  ort::IoBinding* binding_ = nullptr;
  ort::MemoryInfo* cpu_ = nullptr;
  ort::MemoryInfo* device_ = nullptr;
  ort::Allocator* allocator_ = nullptr;  // the session's allocator on its device (deviceTensor)
  bool cuda_ = false;
  int deviceId_ = 0;
  bool running_ = false;
  std::map<std::string, Bound> inputs_, outputs_;
  std::vector<std::string> returned_;  // outputs ORT allocates, copied into new arrays after each run

  void Free() {
    inputs_.clear();
    outputs_.clear();
    for (auto it = g_tensors.begin(); it != g_tensors.end();) it = it->second.first == this ? g_tensors.erase(it) : std::next(it);
    if (allocator_) fn<ort::ReleaseFn<ort::Allocator>>(ort::ReleaseAllocator)(allocator_);
    if (binding_) fn<ort::ReleaseFn<ort::IoBinding>>(ort::ReleaseIoBinding)(binding_);
    if (session_) fn<ort::ReleaseFn<ort::Session>>(ort::ReleaseSession)(session_);
    if (cpu_) fn<ort::ReleaseFn<ort::MemoryInfo>>(ort::ReleaseMemoryInfo)(cpu_);
    if (device_) fn<ort::ReleaseFn<ort::MemoryInfo>>(ort::ReleaseMemoryInfo)(device_);
    allocator_ = nullptr; binding_ = nullptr; session_ = nullptr; cpu_ = nullptr; device_ = nullptr;
  }

  void Usable(const Napi::Env& env) {
    if (!session_) throw Napi::Error::New(env, "ftlab_ort: the session was released");
    if (running_) throw Napi::Error::New(env, "ftlab_ort: a run is in progress; bindings cannot change until it ends");
  }

  // (name, typedArray, shape, type): a tensor over the array's memory, bound without a copy.
  Bound Wrap(const Napi::CallbackInfo& info) {
    Napi::TypedArray a = info[1].As<Napi::TypedArray>();
    std::vector<int64_t> shape = shapeOf(info[2]);
    int type = elementType(info[3].As<Napi::String>().Utf8Value());
    size_t n = 1;
    for (int64_t d : shape) n *= static_cast<size_t>(d);
    if (n * elementBytes(type) != a.ByteLength()) {
      throw std::runtime_error("'" + info[0].As<Napi::String>().Utf8Value() + "': the array holds " + std::to_string(a.ByteLength()) +
                               " bytes, the shape and type need " + std::to_string(n * elementBytes(type)));
    }
    void* data = static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
    ort::Value* v = nullptr;
    check(fn<ort::CreateTensorWithDataFn>(ort::CreateTensorWithDataAsOrtValue)(cpu_, data, a.ByteLength(), shape.data(), shape.size(), type, &v), "CreateTensorWithDataAsOrtValue");
    return Bound{ValuePtr(v), Napi::Persistent(info[1].As<Napi::Object>())};
  }

  void Bind(const Napi::CallbackInfo& info, bool output) {
    Usable(info.Env());
    std::string name = info[0].As<Napi::String>().Utf8Value();
    try {
      Bound b = Wrap(info);
      check(fn<ort::BindFn>(output ? ort::BindOutput : ort::BindInput)(binding_, name.c_str(), b.value.get()), output ? "BindOutput" : "BindInput");
      (output ? outputs_ : inputs_)[name] = std::move(b);
      if (output) Unreturned(name);
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
  }

  Napi::Value BindInput(const Napi::CallbackInfo& info) { Bind(info, false); return info.Env().Undefined(); }
  Napi::Value BindOutput(const Napi::CallbackInfo& info) { Bind(info, true); return info.Env().Undefined(); }

  // deviceTensor(shape, type) -> id: a tensor in the session device's memory (the CPU's on a CPU session),
  // which any session of the process may bind (same device).
  Napi::Value DeviceTensor(const Napi::CallbackInfo& info) {
    Usable(info.Env());
    try {
      if (!allocator_) check(fn<ort::CreateAllocatorFn>(ort::CreateAllocator)(session_, device_, &allocator_), "CreateAllocator");
      std::vector<int64_t> shape = shapeOf(info[0]);
      ort::Value* v = nullptr;
      check(fn<ort::CreateTensorAsOrtValueFn>(ort::CreateTensorAsOrtValue)(allocator_, shape.data(), shape.size(), elementType(info[1].As<Napi::String>().Utf8Value()), &v), "CreateTensorAsOrtValue");
      uint32_t id = g_nextTensor++;
      g_tensors[id] = {this, ValuePtr(v)};
      return Napi::Number::New(info.Env(), id);
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
  }

  ort::Value* TensorArg(const Napi::CallbackInfo& info, int at) {
    auto it = g_tensors.find(info[at].As<Napi::Number>().Uint32Value());
    if (it == g_tensors.end()) throw Napi::Error::New(info.Env(), "ftlab_ort: no device tensor with that id");
    return it->second.second.get();
  }

  void BindTensor(const Napi::CallbackInfo& info, bool output) {
    Usable(info.Env());
    std::string name = info[0].As<Napi::String>().Utf8Value();
    ort::Value* v = TensorArg(info, 1);
    try {
      check(fn<ort::BindFn>(output ? ort::BindOutput : ort::BindInput)(binding_, name.c_str(), v), output ? "BindOutput" : "BindInput");
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
    (output ? outputs_ : inputs_).erase(name);  // the binding now holds the device tensor, not an array
    if (output) Unreturned(name);
  }

  void Unreturned(const std::string& name) {
    for (auto it = returned_.begin(); it != returned_.end();) it = *it == name ? returned_.erase(it) : it + 1;
  }

  // bindOutputToCpu(name): ORT allocates this output (its shape need not be known: a Loop's scan output
  // has one row per step made) in CPU memory; run() resolves to { name: new typed array } for these.
  Napi::Value BindOutputToCpu(const Napi::CallbackInfo& info) {
    Usable(info.Env());
    std::string name = info[0].As<Napi::String>().Utf8Value();
    try {
      check(fn<ort::BindToDeviceFn>(ort::BindOutputToDevice)(binding_, name.c_str(), cpu_), "BindOutputToDevice");
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
    outputs_.erase(name);
    Unreturned(name);
    returned_.push_back(name);
    return info.Env().Undefined();
  }

  struct Copied { std::string name; int type; std::vector<uint8_t> bytes; };

  // After a run (worker thread): copies of the outputs ORT allocated, by name.
  std::vector<Copied> CopyReturned() {
    std::vector<Copied> out;
    if (returned_.empty()) return out;
    ort::Allocator* a = nullptr;
    check(fn<ort::GetAllocatorWithDefaultOptionsFn>(ort::GetAllocatorWithDefaultOptions)(&a), "GetAllocatorWithDefaultOptions");
    char* names = nullptr; size_t* lengths = nullptr; size_t count = 0;
    ort::Value** values = nullptr; size_t nValues = 0;
    check(fn<ort::GetBoundOutputNamesFn>(ort::GetBoundOutputNames)(binding_, a, &names, &lengths, &count), "GetBoundOutputNames");
    std::string error;
    try {
      check(fn<ort::GetBoundOutputValuesFn>(ort::GetBoundOutputValues)(binding_, a, &values, &nValues), "GetBoundOutputValues");
      size_t at = 0;
      for (size_t i = 0; i < count && i < nValues; at += lengths[i], i++) {
        std::string name(names + at, lengths[i]);
        bool wanted = false;
        for (auto& r : returned_) wanted |= r == name;
        if (!wanted) continue;
        ort::TensorInfo* ti = nullptr;
        check(fn<ort::GetTensorTypeAndShapeFn>(ort::GetTensorTypeAndShape)(values[i], &ti), "GetTensorTypeAndShape");
        int type = 0; size_t rank = 0;
        fn<ort::GetTensorElementTypeFn>(ort::GetTensorElementType)(ti, &type);
        fn<ort::GetDimensionsCountFn>(ort::GetDimensionsCount)(ti, &rank);
        std::vector<int64_t> dims(rank);
        fn<ort::GetDimensionsFn>(ort::GetDimensions)(ti, dims.data(), rank);
        fn<ort::ReleaseFn<ort::TensorInfo>>(ort::ReleaseTensorInfo)(ti);
        size_t n = 1;
        for (int64_t d : dims) n *= static_cast<size_t>(d);
        void* data = nullptr;
        check(fn<ort::GetTensorMutableDataFn>(ort::GetTensorMutableData)(values[i], &data), "GetTensorMutableData");
        Copied c{name, type, std::vector<uint8_t>(n * elementBytes(type))};
        if (n) memcpy(c.bytes.data(), data, c.bytes.size());
        out.push_back(std::move(c));
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
    for (size_t i = 0; i < nValues; i++) fn<ort::ReleaseFn<ort::Value>>(ort::ReleaseValue)(values[i]);
    if (values) fn<ort::AllocatorFreeFn>(ort::AllocatorFree)(a, values);
    if (names) fn<ort::AllocatorFreeFn>(ort::AllocatorFree)(a, names);
    if (lengths) fn<ort::AllocatorFreeFn>(ort::AllocatorFree)(a, lengths);
    if (!error.empty()) throw std::runtime_error(error);
    return out;
  }

  static Napi::Value ToArray(Napi::Env env, const Copied& c) {
    size_t n = c.bytes.size() / elementBytes(c.type);
    Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, c.bytes.size());
    if (!c.bytes.empty()) memcpy(buf.Data(), c.bytes.data(), c.bytes.size());
    switch (c.type) {
      case ort::kFloat: return Napi::Float32Array::New(env, n, buf, 0);
      case ort::kDouble: return Napi::Float64Array::New(env, n, buf, 0);
      case ort::kInt64: return Napi::BigInt64Array::New(env, n, buf, 0);
      case ort::kInt32: return Napi::Int32Array::New(env, n, buf, 0);
      case ort::kUint32: return Napi::Uint32Array::New(env, n, buf, 0);
      default: return Napi::Uint8Array::New(env, c.bytes.size(), buf, 0);
    }
  }

  Napi::Value BindInputTensor(const Napi::CallbackInfo& info) { BindTensor(info, false); return info.Env().Undefined(); }
  Napi::Value BindOutputTensor(const Napi::CallbackInfo& info) { BindTensor(info, true); return info.Env().Undefined(); }

  Napi::Value ReleaseTensor(const Napi::CallbackInfo& info) {
    Usable(info.Env());
    g_tensors.erase(info[0].As<Napi::Number>().Uint32Value());
    return info.Env().Undefined();
  }

  class RunWorker : public Napi::AsyncWorker {
   public:
    RunWorker(Napi::Env env, Session* s) : Napi::AsyncWorker(env), s_(s), deferred_(Napi::Promise::Deferred::New(env)) {}
    Napi::Promise Promise() { return deferred_.Promise(); }
    void Execute() override {
      try {
        check(fn<ort::RunWithBindingFn>(ort::RunWithBinding)(s_->session_, nullptr, s_->binding_), "Run");
        copied_ = s_->CopyReturned();
      } catch (const std::exception& e) {
        SetError(e.what());
      }
    }
    void OnOK() override {
      s_->running_ = false;
      s_->Unref();
      Napi::Object out = Napi::Object::New(Env());
      for (auto& c : copied_) out.Set(c.name, ToArray(Env(), c));
      deferred_.Resolve(out);
    }
    void OnError(const Napi::Error& e) override { s_->running_ = false; s_->Unref(); deferred_.Reject(e.Value()); }
   private:
    Session* s_;
    Napi::Promise::Deferred deferred_;
    std::vector<Copied> copied_;
  };

  // run(): Promise<{ name: array }> (the outputs bound with bindOutputToCpu), on a worker thread; the
  // bound arrays must not change until it settles.
  Napi::Value Run(const Napi::CallbackInfo& info) {
    Usable(info.Env());
    running_ = true;
    Ref();  // the session object outlives its run
    auto* w = new RunWorker(info.Env(), this);
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }

  Napi::Value EndProfiling(const Napi::CallbackInfo& info) {
    Usable(info.Env());
    ort::Allocator* a = nullptr;
    char* out = nullptr;
    try {
      check(fn<ort::GetAllocatorWithDefaultOptionsFn>(ort::GetAllocatorWithDefaultOptions)(&a), "GetAllocatorWithDefaultOptions");
      check(fn<ort::SessionEndProfilingFn>(ort::SessionEndProfiling)(session_, a, &out), "SessionEndProfiling");
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
    Napi::String file = Napi::String::New(info.Env(), out ? out : "");
    if (out) fn<ort::AllocatorFreeFn>(ort::AllocatorFree)(a, out);
    return file;
  }

  Napi::Value Release(const Napi::CallbackInfo& info) {
    if (running_) throw Napi::Error::New(info.Env(), "ftlab_ort: release() during a run");
    Free();
    return info.Env().Undefined();
  }
};

// init(libraryPath): loads ONNX Runtime (the library onnxruntime-node loads) and returns its version.
Napi::Value Init(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (!g_api) {
    void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!lib) throw Napi::Error::New(info.Env(), std::string("ftlab_ort: cannot load ") + path + ": " + dlerror());
    auto getBase = reinterpret_cast<ort::GetApiBaseFn>(dlsym(lib, "OrtGetApiBase"));
    if (!getBase) throw Napi::Error::New(info.Env(), "ftlab_ort: " + path + " has no OrtGetApiBase");
    const ort::ApiBase* base = getBase();
    const void* api = base->GetApi(ort::kApiVersion);
    if (!api) throw Napi::Error::New(info.Env(), std::string("ftlab_ort: ONNX Runtime ") + base->GetVersionString() + " does not offer C API version " + std::to_string(ort::kApiVersion));
    g_api = static_cast<const void* const*>(api);
    g_version = base->GetVersionString();
    try {
      check(fn<ort::CreateEnvFn>(ort::CreateEnv)(ort::kWarning, "ftlab", &g_env), "CreateEnv");
    } catch (const std::exception& e) {
      g_api = nullptr;
      throw Napi::Error::New(info.Env(), e.what());
    }
  }
  return Napi::String::New(info.Env(), g_version);
}

Napi::Object Module(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("Session", Session::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(ftlab_ort, Module)
