"""The TensorFlow ops a SavedModel may run under Keras safe mode: tensor-only ops, by category.

`safe_mode=True` (the default of `keras.models.load_model`) promises that loading a file
runs no code of its author. A SavedModel's functions are TensorFlow graphs, and some ops
reach outside the tensors: files (`ReadFile`, `WriteFile`, `MatchingFiles`, checkpoint
`SaveV2`), Python (`PyFunc`, `EagerPyFunc`), `tf.data` pipelines (whose sources read
files), printing (`PrintV2` writes to any file), other processes (`Send`, collectives,
`RemoteCall`), the process itself (`Abort`), and custom ops nobody can vouch for. So the
check in `graph_safety` accepts only the ops listed here.

Each category is one or more TensorFlow op modules (`tensorflow/python/ops/gen_*.py`),
taken whole or in part (`LEFT_OUT` and `PARTIAL_MODULES` say what is left out and why),
and frozen here as names: a TensorFlow upgrade adds nothing silently (a new op is refused
until it is listed here). A test holds every name to its category's modules and to the
ops TensorFlow registers.

Example:

>>> from keras_accuracy_kit.transfer.safe_ops import SAFE_OPS, refusal_reason
>>> "Conv2D" in SAFE_OPS, "WriteFile" in SAFE_OPS
(True, False)
>>> refusal_reason("TextLineDataset")
'a tf.data pipeline, whose sources read files'
"""


def _names(text):
    return frozenset(text.split())


#: Category -> the TensorFlow op modules (`tensorflow/python/ops/gen_<module>.py`) it is drawn
#: from. A module is taken whole except the ops of `LEFT_OUT`, or in part (`PARTIAL_MODULES`).
CATEGORY_MODULES = {
    "array": ("array_ops", "manip_ops"),
    "math": ("math_ops", "bitwise_ops", "special_math_ops"),
    "linear algebra and FFT": ("linalg_ops", "spectral_ops"),
    "nn": ("nn_ops", "rnn_ops", "cudnn_rnn_ops"),
    "image and audio": ("image_ops", "audio_ops"),
    "control flow": ("control_flow_ops", "functional_ops", "logging_ops"),
    "variables": ("resource_variable_ops",),
    "random": (
        "random_ops",
        "stateless_random_ops",
        "stateless_random_ops_v2",
        "stateful_random_ops",
        "random_index_shuffle_ops",
    ),
    "tensor containers": (
        "list_ops",
        "map_ops",
        "optional_ops",
        "composite_tensor_ops",
        "data_flow_ops",
    ),
    "lookup tables": ("lookup_ops",),
    "strings and parsing": ("string_ops", "parsing_ops"),
    "sparse and ragged": (
        "sparse_ops",
        "set_ops",
        "ragged_array_ops",
        "ragged_conversion_ops",
        "ragged_math_ops",
        "count_ops",
    ),
}

#: Ops of the modules above that are left out, and why.
LEFT_OUT = {
    "ImmutableConst": "memory-maps a file",
    "Empty": "returns uninitialised memory of the process",
    "Abort": "ends the process",
    "RemoteCall": "runs a function in another process",
    "MutexV2": "a lock shared with the rest of the process",
    "MutexLock": "a lock shared with the rest of the process",
    "ConsumeMutexLock": "a lock shared with the rest of the process",
    "InitializeTableFromTextFile": "reads a file",
    "InitializeTableFromTextFileV2": "reads a file",
}

#: Modules of which only some ops are taken, and which.
PARTIAL_MODULES = {
    "logging_ops": "Assert only: printing and summaries write to files",
    "data_flow_ops": (
        "TensorArray*, DynamicPartition, DynamicStitch and ParallelDynamicStitch only: "
        "queues, barriers, stages and session tensors are state shared with the process"
    ),
    "lookup_ops": "the V2 and anonymous tables only (not the TF1 reference-typed ops)",
}

#: Category -> the op names (`tf.raw_ops` names) it allows.
SAFE_OP_CATEGORIES = {
    "array": _names(
        """
        BatchMatrixBandPart BatchMatrixDiag BatchMatrixDiagPart BatchMatrixSetDiag
        BatchToSpace BatchToSpaceND Bitcast BroadcastArgs BroadcastGradientArgs
        BroadcastTo CheckNumerics CheckNumericsV2 Concat ConcatOffset ConcatV2
        ConjugateTranspose Const DebugGradientIdentity DebugGradientRefIdentity DeepCopy
        DepthToSpace Dequantize Diag DiagPart EditDistance EnsureShape ExpandDims
        ExtractImagePatches ExtractVolumePatches FakeQuantWithMinMaxArgs
        FakeQuantWithMinMaxArgsGradient FakeQuantWithMinMaxVars
        FakeQuantWithMinMaxVarsGradient FakeQuantWithMinMaxVarsPerChannel
        FakeQuantWithMinMaxVarsPerChannelGradient Fill Fingerprint Gather GatherNd
        GatherV2 GuaranteeConst Identity IdentityN InplaceAdd InplaceSub InplaceUpdate
        InvertPermutation ListDiff LowerBound MatrixBandPart MatrixDiag MatrixDiagPart
        MatrixDiagPartV2 MatrixDiagPartV3 MatrixDiagV2 MatrixDiagV3 MatrixSetDiag
        MatrixSetDiagV2 MatrixSetDiagV3 MirrorPad MirrorPadGrad OneHot OnesLike Pack Pad
        PadV2 ParallelConcat Placeholder PlaceholderV2 PlaceholderWithDefault
        PreventGradient QuantizeAndDequantize QuantizeAndDequantizeV2
        QuantizeAndDequantizeV3 QuantizeAndDequantizeV4 QuantizeAndDequantizeV4Grad
        QuantizeV2 QuantizedConcat QuantizedInstanceNorm QuantizedReshape Rank RefIdentity
        Reshape ResourceStridedSliceAssign Reverse ReverseSequence ReverseV2 Roll
        ScatterNd ScatterNdNonAliasingAdd Shape ShapeN Size Slice Snapshot SpaceToBatch
        SpaceToBatchND SpaceToDepth Split SplitV Squeeze StopGradient StridedSlice
        StridedSliceAssign StridedSliceGrad TensorScatterAdd TensorScatterMax
        TensorScatterMin TensorScatterSub TensorScatterUpdate TensorStridedSliceUpdate
        Tile TileGrad Transpose Unique UniqueV2 UniqueWithCounts UniqueWithCountsV2 Unpack
        UnravelIndex UpperBound Where ZerosLike
    """),
    "math": _names(
        """
        Abs AccumulateNV2 Acos Acosh Add AddN AddV2 All Angle Any ApproximateEqual ArgMax
        ArgMin Asin Asinh Atan Atan2 Atanh BatchMatMul BatchMatMulV2 BatchMatMulV3
        BesselI0 BesselI0e BesselI1 BesselI1e BesselJ0 BesselJ1 BesselK0 BesselK0e
        BesselK1 BesselK1e BesselY0 BesselY1 Betainc Bincount BitwiseAnd BitwiseOr
        BitwiseXor Bucketize Cast Ceil ClipByValue Complex ComplexAbs Conj Cos Cosh Cross
        Cumprod Cumsum CumulativeLogsumexp Dawsn DenseBincount Digamma Div DivNoNan Equal
        Erf Erfc Erfinv EuclideanNorm Exp Expint Expm1 Floor FloorDiv FloorMod FresnelCos
        FresnelSin Greater GreaterEqual HistogramFixedWidth Igamma IgammaGradA Igammac
        Imag Inv InvGrad Invert IsFinite IsInf IsNan LeftShift Less LessEqual Lgamma
        LinSpace Log Log1p LogicalAnd LogicalNot LogicalOr MatMul Max Maximum Mean Min
        Minimum Mod Mul MulNoNan Ndtri Neg NextAfter NotEqual Polygamma PopulationCount
        Pow Prod QuantizeDownAndShrinkRange QuantizedAdd QuantizedMatMul QuantizedMul
        RaggedBincount Range Real RealDiv Reciprocal ReciprocalGrad RequantizationRange
        RequantizationRangePerChannel Requantize RequantizePerChannel RightShift Rint
        Round Rsqrt RsqrtGrad SegmentMax SegmentMaxV2 SegmentMean SegmentMin SegmentMinV2
        SegmentProd SegmentProdV2 SegmentSum SegmentSumV2 Select SelectV2 Sigmoid
        SigmoidGrad Sign Sin Sinh SobolSample SparseBincount SparseMatMul
        SparseSegmentMean SparseSegmentMeanGrad SparseSegmentMeanGradV2
        SparseSegmentMeanWithNumSegments SparseSegmentSqrtN SparseSegmentSqrtNGrad
        SparseSegmentSqrtNGradV2 SparseSegmentSqrtNWithNumSegments SparseSegmentSum
        SparseSegmentSumGrad SparseSegmentSumGradV2 SparseSegmentSumWithNumSegments Spence
        Sqrt SqrtGrad Square SquaredDifference Sub Sum Tan Tanh TanhGrad TruncateDiv
        TruncateMod UnsortedSegmentMax UnsortedSegmentMin UnsortedSegmentProd
        UnsortedSegmentSum Xdivy Xlog1py Xlogy Zeta
    """),
    "linear algebra and FFT": _names(
        """
        BandedTriangularSolve BatchCholesky BatchCholeskyGrad BatchFFT BatchFFT2D
        BatchFFT3D BatchIFFT BatchIFFT2D BatchIFFT3D BatchMatrixDeterminant
        BatchMatrixInverse BatchMatrixSolve BatchMatrixSolveLs BatchMatrixTriangularSolve
        BatchSelfAdjointEig BatchSelfAdjointEigV2 BatchSvd Cholesky CholeskyGrad Eig
        Einsum FFT FFT2D FFT3D FFTND IFFT IFFT2D IFFT3D IFFTND IRFFT IRFFT2D IRFFT3D
        IRFFTND LogMatrixDeterminant Lu MatrixDeterminant MatrixExponential MatrixInverse
        MatrixLogarithm MatrixSolve MatrixSolveLs MatrixSquareRoot MatrixTriangularSolve
        Qr RFFT RFFT2D RFFT3D RFFTND SelfAdjointEig SelfAdjointEigV2 Svd TridiagonalMatMul
        TridiagonalSolve
    """),
    "nn": _names(
        """
        ApproxTopK AvgPool AvgPool3D AvgPool3DGrad AvgPoolGrad
        BatchNormWithGlobalNormalization BatchNormWithGlobalNormalizationGrad BiasAdd
        BiasAddGrad BiasAddV1 BlockLSTM BlockLSTMGrad BlockLSTMGradV2 BlockLSTMV2 Conv
        Conv2D Conv2DBackpropFilter Conv2DBackpropFilterV2 Conv2DBackpropInput
        Conv2DBackpropInputV2 Conv3D Conv3DBackpropFilter Conv3DBackpropFilterV2
        Conv3DBackpropInput Conv3DBackpropInputV2 CudnnRNN CudnnRNNBackprop
        CudnnRNNBackpropV2 CudnnRNNBackpropV3 CudnnRNNCanonicalToParams
        CudnnRNNCanonicalToParamsV2 CudnnRNNParamsSize CudnnRNNParamsToCanonical
        CudnnRNNParamsToCanonicalV2 CudnnRNNV2 CudnnRNNV3 DataFormatDimMap
        DataFormatVecPermute DepthwiseConv2dNative DepthwiseConv2dNativeBackpropFilter
        DepthwiseConv2dNativeBackpropInput Dilation2D Dilation2DBackpropFilter
        Dilation2DBackpropInput Elu EluGrad FractionalAvgPool FractionalAvgPoolGrad
        FractionalMaxPool FractionalMaxPoolGrad FusedBatchNorm FusedBatchNormGrad
        FusedBatchNormGradV2 FusedBatchNormGradV3 FusedBatchNormV2 FusedBatchNormV3
        FusedPadConv2D FusedResizeAndPadConv2D GRUBlockCell GRUBlockCellGrad InTopK
        InTopKV2 IsotonicRegression L2Loss LRN LRNGrad LSTMBlockCell LSTMBlockCellGrad
        LeakyRelu LeakyReluGrad LogSoftmax MaxPool MaxPool3D MaxPool3DGrad
        MaxPool3DGradGrad MaxPoolGrad MaxPoolGradGrad MaxPoolGradGradV2
        MaxPoolGradGradWithArgmax MaxPoolGradV2 MaxPoolGradWithArgmax MaxPoolV2
        MaxPoolWithArgmax NthElement QuantizedAvgPool
        QuantizedBatchNormWithGlobalNormalization QuantizedBiasAdd QuantizedConv2D
        QuantizedConv2DAndRelu QuantizedConv2DAndReluAndRequantize
        QuantizedConv2DAndRequantize QuantizedConv2DPerChannel QuantizedConv2DWithBias
        QuantizedConv2DWithBiasAndRelu QuantizedConv2DWithBiasAndReluAndRequantize
        QuantizedConv2DWithBiasAndRequantize
        QuantizedConv2DWithBiasSignedSumAndReluAndRequantize
        QuantizedConv2DWithBiasSumAndRelu QuantizedConv2DWithBiasSumAndReluAndRequantize
        QuantizedDepthwiseConv2D QuantizedDepthwiseConv2DWithBias
        QuantizedDepthwiseConv2DWithBiasAndRelu
        QuantizedDepthwiseConv2DWithBiasAndReluAndRequantize QuantizedMatMulWithBias
        QuantizedMatMulWithBiasAndDequantize QuantizedMatMulWithBiasAndRelu
        QuantizedMatMulWithBiasAndReluAndRequantize QuantizedMatMulWithBiasAndRequantize
        QuantizedMaxPool QuantizedRelu QuantizedRelu6 QuantizedReluX Relu Relu6 Relu6Grad
        ReluGrad Selu SeluGrad Softmax SoftmaxCrossEntropyWithLogits Softplus SoftplusGrad
        Softsign SoftsignGrad SparseSoftmaxCrossEntropyWithLogits TopK TopKV2
    """),
    "image and audio": _names(
        """
        AdjustContrast AdjustContrastv2 AdjustHue AdjustSaturation AudioSpectrogram
        CombinedNonMaxSuppression CropAndResize CropAndResizeGradBoxes
        CropAndResizeGradImage DecodeAndCropJpeg DecodeBmp DecodeGif DecodeImage
        DecodeJpeg DecodeJxl DecodePng DecodeWav DecodeWebP DrawBoundingBoxes
        DrawBoundingBoxesV2 EncodeJpeg EncodeJpegVariableQuality EncodePng EncodeWav
        ExtractGlimpse ExtractGlimpseV2 ExtractJpegShape GenerateBoundingBoxProposals
        HSVToRGB ImageProjectiveTransformV2 ImageProjectiveTransformV3 Mfcc
        NonMaxSuppression NonMaxSuppressionV2 NonMaxSuppressionV3 NonMaxSuppressionV4
        NonMaxSuppressionV5 NonMaxSuppressionWithOverlaps QuantizedResizeBilinear RGBToHSV
        RandomCrop ResizeArea ResizeBicubic ResizeBicubicGrad ResizeBilinear
        ResizeBilinearGrad ResizeNearestNeighbor ResizeNearestNeighborGrad
        SampleDistortedBoundingBox SampleDistortedBoundingBoxV2 ScaleAndTranslate
        ScaleAndTranslateGrad StatelessSampleDistortedBoundingBox
    """),
    "control flow": _names(
        """
        Assert Case ControlTrigger DeviceIndex Enter Exit FakeParam For If LoopCond Merge
        NextIteration NoOp PartitionedCall RefEnter RefExit RefMerge RefNextIteration
        RefSelect RefSwitch StatefulPartitionedCall StatelessCase StatelessIf
        StatelessWhile Switch SymbolicGradient ToBool While
    """),
    "variables": _names(
        """
        AssignAddVariableOp AssignSubVariableOp AssignVariableOp DestroyResourceOp
        DisableCopyOnRead ReadVariableOp ResourceGather ResourceGatherNd
        ResourceScatterAdd ResourceScatterDiv ResourceScatterMax ResourceScatterMin
        ResourceScatterMul ResourceScatterSub ResourceScatterUpdate VarHandleOp
        VarIsInitializedOp VariableShape
    """),
    "random": _names(
        """
        Multinomial NonDeterministicInts ParameterizedTruncatedNormal RandomGamma
        RandomGammaGrad RandomIndexShuffle RandomPoisson RandomPoissonV2 RandomShuffle
        RandomStandardNormal RandomUniform RandomUniformInt RngReadAndSkip RngSkip
        StatefulRandomBinomial StatefulStandardNormal StatefulStandardNormalV2
        StatefulTruncatedNormal StatefulUniform StatefulUniformFullInt StatefulUniformInt
        StatelessMultinomial StatelessParameterizedTruncatedNormal StatelessRandomBinomial
        StatelessRandomGammaV2 StatelessRandomGammaV3 StatelessRandomGetAlg
        StatelessRandomGetKeyCounter StatelessRandomGetKeyCounterAlg StatelessRandomNormal
        StatelessRandomNormalV2 StatelessRandomPoisson StatelessRandomUniform
        StatelessRandomUniformFullInt StatelessRandomUniformFullIntV2
        StatelessRandomUniformInt StatelessRandomUniformIntV2 StatelessRandomUniformV2
        StatelessShuffle StatelessTruncatedNormal StatelessTruncatedNormalV2
        TruncatedNormal
    """),
    "tensor containers": _names(
        """
        CompositeTensorVariantFromComponents CompositeTensorVariantToComponents
        DynamicPartition DynamicStitch EmptyTensorList EmptyTensorMap OptionalFromValue
        OptionalGetValue OptionalHasValue OptionalNone ParallelDynamicStitch TensorArray
        TensorArrayClose TensorArrayCloseV2 TensorArrayCloseV3 TensorArrayConcat
        TensorArrayConcatV2 TensorArrayConcatV3 TensorArrayGather TensorArrayGatherV2
        TensorArrayGatherV3 TensorArrayGrad TensorArrayGradV2 TensorArrayGradV3
        TensorArrayGradWithShape TensorArrayPack TensorArrayRead TensorArrayReadV2
        TensorArrayReadV3 TensorArrayScatter TensorArrayScatterV2 TensorArrayScatterV3
        TensorArraySize TensorArraySizeV2 TensorArraySizeV3 TensorArraySplit
        TensorArraySplitV2 TensorArraySplitV3 TensorArrayUnpack TensorArrayV2
        TensorArrayV3 TensorArrayWrite TensorArrayWriteV2 TensorArrayWriteV3
        TensorListConcat TensorListConcatLists TensorListConcatV2 TensorListElementShape
        TensorListFromTensor TensorListGather TensorListGetItem TensorListLength
        TensorListPopBack TensorListPushBack TensorListPushBackBatch TensorListReserve
        TensorListResize TensorListScatter TensorListScatterIntoExistingList
        TensorListScatterV2 TensorListSetItem TensorListSplit TensorListStack
        TensorMapErase TensorMapHasKey TensorMapInsert TensorMapLookup TensorMapSize
        TensorMapStackKeys
    """),
    "lookup tables": _names(
        """
        AnonymousHashTable AnonymousMutableDenseHashTable AnonymousMutableHashTable
        AnonymousMutableHashTableOfTensors HashTableV2 InitializeTableV2
        LookupTableExportV2 LookupTableFindV2 LookupTableImportV2 LookupTableInsertV2
        LookupTableRemoveV2 LookupTableSizeV2 MutableDenseHashTableV2
        MutableHashTableOfTensorsV2 MutableHashTableV2
    """),
    "strings and parsing": _names(
        """
        AsString DecodeBase64 DecodeCSV DecodeCompressed DecodeJSONExample DecodePaddedRaw
        DecodeRaw EncodeBase64 ParseExample ParseExampleV2 ParseSequenceExample
        ParseSequenceExampleV2 ParseSingleExample ParseSingleSequenceExample ParseTensor
        ReduceJoin RegexFullMatch RegexReplace SerializeTensor StaticRegexFullMatch
        StaticRegexReplace StringFormat StringJoin StringLength StringLower StringNGrams
        StringSplit StringSplitV2 StringStrip StringToHashBucket StringToHashBucketFast
        StringToHashBucketStrong StringToNumber StringUpper Substr UnicodeDecode
        UnicodeDecodeWithOffsets UnicodeEncode UnicodeScript UnicodeTranscode
        UnsortedSegmentJoin
    """),
    "sparse and ragged": _names(
        """
        AddManySparseToTensorsMap AddSparseToTensorsMap DenseCountSparseOutput
        DenseToDenseSetOperation DenseToSparseSetOperation DeserializeManySparse
        DeserializeSparse RaggedCountSparseOutput RaggedCross RaggedFillEmptyRows
        RaggedFillEmptyRowsGrad RaggedGather RaggedRange RaggedTensorFromVariant
        RaggedTensorToSparse RaggedTensorToTensor RaggedTensorToVariant
        RaggedTensorToVariantGradient SerializeManySparse SerializeSparse SetSize
        SparseAdd SparseAddGrad SparseConcat SparseCountSparseOutput SparseCross
        SparseCrossHashed SparseCrossV2 SparseDenseCwiseAdd SparseDenseCwiseDiv
        SparseDenseCwiseMul SparseFillEmptyRows SparseFillEmptyRowsGrad SparseReduceMax
        SparseReduceMaxSparse SparseReduceSum SparseReduceSumSparse SparseReorder
        SparseReshape SparseSlice SparseSliceGrad SparseSoftmax SparseSparseMaximum
        SparseSparseMinimum SparseSplit SparseTensorDenseAdd SparseTensorDenseMatMul
        SparseToDense SparseToSparseSetOperation TakeManySparseFromTensorsMap
    """),
}

#: Every op a SavedModel's functions may use under safe mode.
SAFE_OPS = frozenset().union(*SAFE_OP_CATEGORIES.values())

_PYTHON_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})
_PRINT_OPS = frozenset({"Print", "PrintV2"})
_FILE_OPS = _names(
    """
    ReadFile WriteFile MatchingFiles FileSystemSetConfiguration Save SaveV2 SaveSlices
    Restore RestoreV2 RestoreSlice MergeV2Checkpoints ShardedFilename ShardedFilespec
    LoadAndRemapMatrix GenerateVocabRemapping RecordInput ImmutableConst
    InitializeTableFromTextFile InitializeTableFromTextFileV2 DecodeProtoV2 EncodeProto
    """
)
_PROCESS_OPS = frozenset({"Send", "Recv", "_Send", "_Recv", "RemoteCall", "Abort"})


def refusal_reason(op, registered=True):
    """Says in words why `op` is refused, for the error message (`None` if it is allowed).

    Args:
        op: String. An op type, e.g. `"WriteFile"`.
        registered: Bool. Whether this TensorFlow knows the op. Defaults to `True`.

    Returns:
        A short phrase, or `None` for an op of `SAFE_OPS`.

    Example:

    >>> refusal_reason("WriteFile"), refusal_reason("MatMul")
    ('reads or writes files', None)
    """
    if op in SAFE_OPS:
        return None
    if not registered:
        return "not an op this TensorFlow knows: a custom op"
    if op in _PYTHON_OPS:
        return "runs Python code"
    if "Dataset" in op or "Iterator" in op:
        return "a tf.data pipeline, whose sources read files"
    if op in _FILE_OPS or "Reader" in op:
        return "reads or writes files"
    if op in _PRINT_OPS:
        return "prints, and PrintV2 can write to any file"
    if "Summary" in op or op.startswith("Debug"):
        return "writes summaries or debug data to files or the network"
    if op in _PROCESS_OPS or op.startswith(("Collective", "Nccl")):
        return "reaches other processes or ends this one"
    return "outside the tensor-only allowlist"
