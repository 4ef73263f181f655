import Tensors

/// Typed views of a SASRec/BERT4Rec encoder's tensors in its `ParameterSet`, built once, so the
/// forward pass reads stored properties instead of looking names up (names as `SequentialModel.shapes`).
struct SequentialWeights {
    /// BERT4Rec's output head.
    struct Head {
        let denseWeight, denseBias: Variable
        let normWeight, normBias: Variable
        let outputBias: Variable
    }

    let itemEmbedding: Variable
    let positionEmbedding: Variable
    let inputNormWeight, inputNormBias: Variable
    let layers: [PostLNBlock]
    let head: Head?

    init(_ set: ParameterSet, config: SequentialModelConfig) {
        let v = set.required
        itemEmbedding = v("item_embedding.weight")
        positionEmbedding = v("position_embedding.weight")
        inputNormWeight = v("input_ln.weight")
        inputNormBias = v("input_ln.bias")
        layers = (0..<config.layers).map { PostLNBlock(set, prefix: "layers.\($0).") }
        head = config.architecture == .bert4rec
            ? Head(
                denseWeight: v("head.dense.weight"), denseBias: v("head.dense.bias"), normWeight: v("head.ln.weight"),
                normBias: v("head.ln.bias"), outputBias: v("head.output.bias"))
            : nil
    }
}
