import Tensors

/// Typed views of a SASRec/BERT4Rec encoder's tensors in its `ParameterSet`, built once, so the
/// forward pass reads stored properties instead of looking names up (names as `SequentialModel.shapes`).
struct SequentialWeights {
    struct Layer {
        let qkvWeight, qkvBias: Variable
        let outWeight, outBias: Variable
        let attentionNormWeight, attentionNormBias: Variable
        let upWeight, upBias: Variable
        let downWeight, downBias: Variable
        let ffnNormWeight, ffnNormBias: Variable
    }

    /// BERT4Rec's output head.
    struct Head {
        let denseWeight, denseBias: Variable
        let normWeight, normBias: Variable
        let outputBias: Variable
    }

    let itemEmbedding: Variable
    let positionEmbedding: Variable
    let inputNormWeight, inputNormBias: Variable
    let layers: [Layer]
    let head: Head?

    init(_ set: ParameterSet, config: SequentialModelConfig) {
        let v = set.required
        itemEmbedding = v("item_embedding.weight")
        positionEmbedding = v("position_embedding.weight")
        inputNormWeight = v("input_ln.weight")
        inputNormBias = v("input_ln.bias")
        layers = (0..<config.layers).map { i in
            let l = "layers.\(i)."
            return Layer(
                qkvWeight: v(l + "attention.qkv.weight"), qkvBias: v(l + "attention.qkv.bias"),
                outWeight: v(l + "attention.out.weight"), outBias: v(l + "attention.out.bias"),
                attentionNormWeight: v(l + "attention.ln.weight"), attentionNormBias: v(l + "attention.ln.bias"),
                upWeight: v(l + "ffn.up.weight"), upBias: v(l + "ffn.up.bias"),
                downWeight: v(l + "ffn.down.weight"), downBias: v(l + "ffn.down.bias"),
                ffnNormWeight: v(l + "ffn.ln.weight"), ffnNormBias: v(l + "ffn.ln.bias"))
        }
        head = config.architecture == .bert4rec
            ? Head(
                denseWeight: v("head.dense.weight"), denseBias: v("head.dense.bias"), normWeight: v("head.ln.weight"),
                normBias: v("head.ln.bias"), outputBias: v("head.output.bias"))
            : nil
    }
}
